package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redisurl"
)

// The HA override (docker-compose.ha.yml) adds a replica and three
// Sentinels, points every didicm service at the Sentinels, lets the first
// master rejoin as a replica, and changes nothing else an operator relies on.
func TestHAOverrideAddsFailoverAndChangesNothingElse(t *testing.T) {
	shipped, ha := loadCompose(t), loadCompose(t, "../../docker-compose.ha.yml")
	sentinels := []string{"sentinel-1", "sentinel-2", "sentinel-3"}
	t.Run("every didicm service reaches Redis through the three Sentinels, with the password", func(t *testing.T) {
		for _, name := range []string{"worker", "worker-cpu", "producer", "monitor"} {
			url := ha.Services[name].Environment["DIDICM_REDIS_URL"]
			if url == nil {
				t.Fatalf("%s has no DIDICM_REDIS_URL", name)
			}
			opt, err := redisurl.Parse(*url)
			fo, ok := opt.(asynq.RedisFailoverClientOpt)
			want := []string{"sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"}
			if err != nil || !ok || fo.MasterName != "didicm" || fo.Password != "p" || !reflect.DeepEqual(fo.SentinelAddrs, want) {
				t.Fatalf("%s: DIDICM_REDIS_URL reads as %+v, %v", name, opt, err)
			}
			for _, s := range append(sentinels, "redis") {
				if _, ok := ha.Services[name].DependsOn[s]; !ok {
					t.Fatalf("%s does not wait for %s", name, s)
				}
			}
		}
	})
	t.Run("the Sentinels watch the master set on the first master, a quorum of two", func(t *testing.T) {
		for _, name := range sentinels {
			s := ha.Services[name]
			script := strings.Join(s.Command, " ")
			for _, want := range []string{"sentinel monitor didicm redis 6379 2", "sentinel auth-pass didicm $REDIS_PASSWORD",
				"sentinel announce-ip $SENTINEL_HOST", "--sentinel"} {
				if !strings.Contains(script, want) {
					t.Fatalf("%s's command lacks %q:\n%s", name, want, script)
				}
			}
			if *s.Environment["SENTINEL_HOST"] != name || s.HealthCheck == nil || s.User != "redis" || len(s.Volumes) != 1 {
				t.Fatalf("%s: host %q, healthcheck %v, user %q, volumes %v", name, *s.Environment["SENTINEL_HOST"],
					s.HealthCheck, s.User, s.Volumes)
			}
		}
	})
	t.Run("master and replica persist, never evict, want the password and give it to each other", func(t *testing.T) {
		for name, extra := range map[string][]string{"redis": {"--replica-announce-ip redis"},
			"redis-replica": {"--replica-announce-ip redis-replica", "--replicaof redis 6379"}} {
			cmd := strings.Join(ha.Services[name].Command, " ")
			for _, want := range append(extra, "--appendonly yes", "--maxmemory-policy noeviction", "--requirepass p", "--masterauth p") {
				if !strings.Contains(cmd, want) {
					t.Fatalf("%s command %q lacks %q", name, cmd, want)
				}
			}
		}
		if got, want := ha.Services["redis"].Command, shipped.Services["redis"].Command; !isPrefix(want, got) {
			t.Fatalf("the HA master's command %v does not begin with the shipped one %v", got, want)
		}
	})
	t.Run("nothing else changes", func(t *testing.T) {
		for name, want := range shipped.Services {
			sameExceptRedis(t, name, ha.Services[name], want)
		}
	})
}

func sameExceptRedis(t *testing.T, name string, got, want types.ServiceConfig) {
	t.Helper()
	delete(got.Environment, "DIDICM_REDIS_URL")
	delete(want.Environment, "DIDICM_REDIS_URL")
	same := func(what string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: %s changed by the HA override: %v, shipped %v", name, what, a, b)
		}
	}
	same("image", got.Image, want.Image)
	same("environment", got.Environment, want.Environment)
	same("volumes", got.Volumes, want.Volumes)
	same("healthcheck", got.HealthCheck, want.HealthCheck)
	same("stop_grace_period", got.StopGracePeriod, want.StopGracePeriod)
	same("ports", got.Ports, want.Ports)
	same("profiles", got.Profiles, want.Profiles)
	if name != "redis" {
		same("command", got.Command, want.Command)
	}
}

func isPrefix(prefix, s []string) bool {
	return len(prefix) <= len(s) && slices.Equal(prefix, s[:len(prefix)])
}

// The HA stack on a machine without a registry (the compose test's
// failover run): deploy/local/docker-compose.ha.yml gives the replica and
// the Sentinels the local Redis image, so no service of the four files
// together pulls an image, and changes nothing else of the HA override.
func TestLocalHAOverrideOnlySwapsTheRedisImages(t *testing.T) {
	ha := loadCompose(t, "../../docker-compose.local.yml", "../../docker-compose.ha.yml")
	local := loadCompose(t, "../../docker-compose.local.yml", "../../docker-compose.ha.yml", "../../deploy/local/docker-compose.ha.yml")
	for name, got := range local.Services {
		want, ok := ha.Services[name]
		if !ok {
			t.Fatalf("the local HA override adds service %s", name)
		}
		if !strings.HasPrefix(got.Image, "didicm-local/") && got.Build == nil {
			t.Errorf("%s runs %q, which this machine cannot pull", name, got.Image)
		}
		got.Image, want.Image = "", ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the local HA override changes more than its image", name)
		}
	}
	if len(local.Services) != len(ha.Services) {
		t.Fatalf("%d services, the HA stack has %d", len(local.Services), len(ha.Services))
	}
}
