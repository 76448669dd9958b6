package main

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// loadCompose loads docker-compose.yml as Docker Compose would, with every
// profile on and the required .env values set.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	env := []string{"REDIS_PASSWORD=p", "S3_SECRET_KEY=s", "JOB_ID=j", "JOB_INPUT_URL=file:///data/in", "JOB_OUTPUT_URL=file:///data/out"}
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"}, cli.WithEnv(env),
		cli.WithProfiles([]string{"gpu", "cpu", "enqueue"}), cli.WithWorkingDirectory("../.."))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestComposeFileHasWhatOperationsNeed(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"redis", "worker", "worker-cpu", "producer", "monitor", "prometheus", "s3"} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("service %s missing", name)
		}
	}
	t.Run("GPU workers reserve an NVIDIA GPU", func(t *testing.T) {
		dev := p.Services["worker"].Deploy.Resources.Reservations.Devices
		if len(dev) != 1 || dev[0].Driver != "nvidia" || !slices.Contains(dev[0].Capabilities, "gpu") {
			t.Fatalf("devices %+v", dev)
		}
	})
	t.Run("workers scale: no fixed names or host ports", func(t *testing.T) {
		for _, name := range []string{"worker", "worker-cpu"} {
			s := p.Services[name]
			if s.ContainerName != "" || len(s.Ports) != 0 {
				t.Fatalf("%s: container_name %q, ports %v", name, s.ContainerName, s.Ports)
			}
		}
	})
	t.Run("grace period outlasts the workers' shutdown timeout", func(t *testing.T) {
		for _, name := range []string{"worker", "worker-cpu"} {
			s := p.Services[name]
			timeout, err := time.ParseDuration(*s.Environment["DIDICM_WORKER_SHUTDOWN_TIMEOUT"])
			if err != nil || s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= timeout+10*time.Second {
				t.Fatalf("%s: grace %v, shutdown timeout %v (%v)", name, s.StopGracePeriod, timeout, err)
			}
		}
	})
	t.Run("redis persists and never evicts, with a password", func(t *testing.T) {
		cmd := strings.Join(p.Services["redis"].Command, " ")
		for _, want := range []string{"--appendonly yes", "--maxmemory-policy noeviction", "--requirepass p"} {
			if !strings.Contains(cmd, want) {
				t.Fatalf("redis command %q lacks %q", cmd, want)
			}
		}
	})
	t.Run("health checks and read-only models", func(t *testing.T) {
		for _, name := range []string{"redis", "worker", "worker-cpu", "monitor", "prometheus"} {
			if p.Services[name].HealthCheck == nil || len(p.Services[name].HealthCheck.Test) == 0 {
				t.Fatalf("%s has no healthcheck", name)
			}
		}
		for _, name := range []string{"worker", "worker-cpu", "producer"} {
			ro := false
			for _, v := range p.Services[name].Volumes {
				ro = ro || v.Target == "/models" && v.ReadOnly
			}
			if !ro {
				t.Fatalf("%s does not mount /models read-only", name)
			}
		}
	})
	t.Run("every DIDICM_ variable is one the binary reads", func(t *testing.T) {
		known := map[string]bool{}
		for key := range defaults {
			known["DIDICM_"+strings.ToUpper(strings.ReplaceAll(key, ".", "_"))] = true
		}
		for name, s := range p.Services {
			for k := range s.Environment {
				if strings.HasPrefix(k, "DIDICM_") && !known[k] {
					t.Errorf("service %s sets %s, which no config key reads", name, k)
				}
			}
		}
	})
}

func TestDockerfilesArePinnedNonRootAndSecretFree(t *testing.T) {
	secret := regexp.MustCompile(`(?i)(password|secret|token|access_key|api_key)`)
	for _, path := range []string{"../../deploy/Dockerfile", "../../deploy/Dockerfile.gpu"} {
		t.Run(path, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ast, err := parser.Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			stages, metaArgs, err := instructions.Parse(ast.AST, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(metaArgs) != 0 {
				t.Fatalf("global ARGs %v: base images must be literal", metaArgs)
			}
			for _, st := range stages {
				ref := st.BaseName
				if i := strings.LastIndex(ref, ":"); i < 0 || strings.Contains(ref[i:], "/") || ref[i+1:] == "latest" {
					t.Fatalf("stage %q: base image %q is not pinned by tag", st.Name, ref)
				}
				for _, cmd := range st.Commands {
					if env, ok := cmd.(*instructions.EnvCommand); ok {
						for _, kv := range env.Env {
							if secret.MatchString(kv.Key) {
								t.Fatalf("ENV %s bakes a secret into the image", kv.Key)
							}
						}
					}
					if arg, ok := cmd.(*instructions.ArgCommand); ok {
						for _, kv := range arg.Args {
							if secret.MatchString(kv.Key) {
								t.Fatalf("ARG %s passes a secret through the build", kv.Key)
							}
						}
					}
				}
			}
			final := stages[len(stages)-1]
			user := ""
			for _, cmd := range final.Commands {
				if u, ok := cmd.(*instructions.UserCommand); ok {
					user = u.User
				}
			}
			if user == "" || user == "root" || strings.HasPrefix(user, "0") {
				t.Fatalf("final stage runs as %q; want a non-root USER", user)
			}
		})
	}
}
