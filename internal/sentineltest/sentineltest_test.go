package sentineltest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/didicm/didicm/internal/redisurl"
	"github.com/didicm/didicm/internal/sentineltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client reaches the deployment as the commands do: through the Sentinels.
func client(t *testing.T, d *sentineltest.Deployment) redis.UniversalClient {
	opt, err := redisurl.Parse(d.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := opt.MakeRedisClient().(redis.UniversalClient)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestASyncedReplicaTakesOverWithTheData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := sentineltest.Start(t, sentineltest.Options{Password: "pw", SentinelPassword: "spw"})
	c := client(t, d)
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitInSync(ctx); err != nil {
		t.Fatal(err)
	}
	d.KillMaster()
	addr, err := d.WaitFailover(ctx)
	if err != nil || addr != d.ReplicaAddr() {
		t.Fatalf("failover to %s, %v; want the replica %s", addr, err, d.ReplicaAddr())
	}
	// The same client follows the new master and finds the write.
	if v, err := c.Get(ctx, "before").Result(); err != nil || v != "1" {
		t.Fatalf("after failover: %q, %v", v, err)
	}
}

func TestAnUnsyncedReplicaTakesOverEmpty(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := sentineltest.Start(t, sentineltest.Options{Unsynced: true})
	c := client(t, d)
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if syncing, err := d.ReplicaSyncing(ctx); err != nil || !syncing {
		t.Fatalf("replica syncing: %v, %v; want it still waiting for its first sync", syncing, err)
	}
	d.KillMaster()
	if _, err := d.WaitFailover(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, "before").Result(); err != nil || n != 0 {
		t.Fatalf("the promoted replica has the key (%d, %v); it should hold nothing", n, err)
	}
}
