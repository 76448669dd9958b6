package main

import (
	"context"
	"os"
	"os/exec"
	"reflect"
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
func loadCompose(t *testing.T, files ...string) *types.Project {
	t.Helper()
	env := []string{"REDIS_PASSWORD=p", "S3_SECRET_KEY=s", "JOB_ID=j", "JOB_INPUT_URL=file:///data/in", "JOB_OUTPUT_URL=file:///data/out"}
	opts, err := cli.NewProjectOptions(append([]string{"../../docker-compose.yml"}, files...), cli.WithEnv(env),
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

// The local override (compose test, machines without a registry) may swap
// images, build arguments, the S3 store's command and Prometheus's profile,
// and nothing an operator relies on.
func TestLocalOverrideOnlySwapsImages(t *testing.T) {
	shipped, local := loadCompose(t), loadCompose(t, "../../docker-compose.local.yml")
	if _, ok := local.Services["prometheus"]; ok {
		t.Fatal("prometheus (no local image) starts with the local override")
	}
	for name, want := range shipped.Services {
		got, ok := local.Services[name]
		if !ok {
			if name == "prometheus" {
				continue
			}
			t.Fatalf("service %s is gone", name)
		}
		if name != "redis" && name != "s3" && got.Image != want.Image {
			t.Fatalf("%s: image %q, shipped %q", name, got.Image, want.Image)
		}
		if want.Build != nil && (got.Build.Dockerfile != want.Build.Dockerfile || got.Build.Context != want.Build.Context) {
			t.Fatalf("%s: builds %s/%s, shipped %s/%s", name, got.Build.Context, got.Build.Dockerfile,
				want.Build.Context, want.Build.Dockerfile)
		}
		same := func(what string, a, b any) {
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: %s changed by the override: %v, shipped %v", name, what, a, b)
			}
		}
		same("environment", got.Environment, want.Environment)
		same("volumes", got.Volumes, want.Volumes)
		same("healthcheck", got.HealthCheck, want.HealthCheck)
		same("stop_grace_period", got.StopGracePeriod, want.StopGracePeriod)
		same("user", got.User, want.User)
		same("ports", got.Ports, want.Ports)
		if name != "s3" {
			same("command", got.Command, want.Command)
		}
	}
	for _, name := range []string{"worker-cpu", "producer", "monitor"} {
		if args := local.Services[name].Build.Args; args["RUNTIME_IMAGE"] == nil || !strings.HasPrefix(*args["RUNTIME_IMAGE"], "didicm-local/") {
			t.Fatalf("%s: build args %v do not select the local bases", name, args)
		}
	}
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
			// Global ARGs may only choose base images, and each has a pinned
			// public default (the local build overrides them).
			defaults := map[string]string{}
			for _, a := range metaArgs {
				for _, kv := range a.Args {
					if !strings.HasSuffix(kv.Key, "_IMAGE") || kv.Value == nil {
						t.Fatalf("global ARG %s: only base images (NAME_IMAGE=default) may be arguments", kv.Key)
					}
					defaults[kv.Key] = *kv.Value
				}
			}
			for _, st := range stages {
				ref := os.Expand(st.BaseName, func(k string) string { return defaults[k] })
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

// TestDockerfilesInstallTheLibrariesTheBuildLinks: every library a cgo
// package of didicm links (-l in its LDFLAGS) has its development package
// in each Dockerfile's build stage and its runtime package in the final
// stage, under the distribution's names (Debian 12 for deploy/Dockerfile,
// Ubuntu 24.04 for deploy/Dockerfile.gpu). A new cgo dependency fails here
// until both images get it.
func TestDockerfilesInstallTheLibrariesTheBuildLinks(t *testing.T) {
	type pkgs struct{ dev, debian, ubuntu string }
	known := map[string]pkgs{
		"turbojpeg":  {"libturbojpeg0-dev", "libturbojpeg0", "libturbojpeg"},
		"charls":     {"libcharls-dev", "libcharls2", "libcharls2"},
		"openjp2":    {"libopenjp2-7-dev", "libopenjp2-7", "libopenjp2-7"},
		"gdcmjpeg8":  {"libgdcm-dev", "libgdcm3.0", "libgdcm3.0t64"},
		"gdcmjpeg12": {"libgdcm-dev", "libgdcm3.0", "libgdcm3.0t64"},
		"avformat":   {"libavformat-dev", "libavformat59", "libavformat60"},
		"avcodec":    {"libavcodec-dev", "libavcodec59", "libavcodec60"},
		"swscale":    {"libswscale-dev", "libswscale6", "libswscale7"},
		"avutil":     {"libavformat-dev", "libavutil57", "libavutil58"}, // libavutil-dev comes with libavformat-dev
	}
	system := map[string]bool{"pthread": true, "resolv": true, "dl": true, "m": true}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{join .CgoLDFLAGS " "}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var libs []string
	for _, f := range strings.Fields(string(out)) {
		if lib, ok := strings.CutPrefix(f, "-l"); ok && !system[lib] && !slices.Contains(libs, lib) {
			libs = append(libs, lib)
		}
	}
	if !slices.Contains(libs, "avformat") || !slices.Contains(libs, "turbojpeg") {
		t.Fatalf("go list found the libraries %v; FFmpeg and libjpeg-turbo should be among them", libs)
	}
	for _, df := range []struct {
		path   string
		ubuntu bool
	}{{"../../deploy/Dockerfile", false}, {"../../deploy/Dockerfile.gpu", true}} {
		f, err := os.Open(df.path)
		if err != nil {
			t.Fatal(err)
		}
		ast, err := parser.Parse(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		stages, _, err := instructions.Parse(ast.AST, nil)
		if err != nil {
			t.Fatal(err)
		}
		installs := func(st instructions.Stage) []string {
			var words []string
			for _, cmd := range st.Commands {
				if run, ok := cmd.(*instructions.RunCommand); ok {
					words = append(words, strings.Fields(strings.Join(run.CmdLine, " "))...)
				}
			}
			return words
		}
		var build []string
		for _, st := range stages {
			if st.Name == "build" {
				build = installs(st)
			}
		}
		final := installs(stages[len(stages)-1])
		for _, lib := range libs {
			p, ok := known[lib]
			if !ok {
				t.Fatalf("didicm links -l%s: add its packages to this test's table and to both Dockerfiles", lib)
			}
			runtime := p.debian
			if df.ubuntu {
				runtime = p.ubuntu
			}
			if !slices.Contains(build, p.dev) {
				t.Errorf("%s: the build stage does not install %s (for -l%s)", df.path, p.dev, lib)
			}
			if !slices.Contains(final, runtime) {
				t.Errorf("%s: the final stage does not install %s (for -l%s)", df.path, runtime, lib)
			}
		}
	}
}
