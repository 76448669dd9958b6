// Package sentineltest starts a Redis deployment that fails over, for a
// test: a master, one replica and three Sentinels (Debian's redis-sentinel),
// each a real process on a free loopback port, all killed when the test
// ends. Its waits poll the servers' own view (INFO, ROLE, SENTINEL
// commands) until a condition holds, bounded by the caller's context.
//
//	d := sentineltest.Start(t, sentineltest.Options{Password: "pw"})
//	// … run workers with d.URL() …
//	d.WaitInSync(ctx)      // the replica holds every write made so far
//	d.KillMaster()         // SIGKILL
//	d.WaitFailover(ctx)    // every Sentinel names the replica, which is a master
package sentineltest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// MasterName is the master set the Sentinels watch.
const MasterName = "didicm"

// Options shape the deployment.
type Options struct {
	// Password is required by the master and the replica (requirepass,
	// masterauth); the Sentinels reach them with it. Empty means none.
	Password string
	// SentinelPassword is required by the Sentinels themselves. Empty
	// means none.
	SentinelPassword string
	// Unsynced keeps the replica from ever finishing its first sync: the
	// master delays its transfer by an hour, so the replica waits for its
	// PSYNC reply holding nothing. Promoted, it is an empty Redis.
	// Otherwise the master starts the transfer at once.
	Unsynced bool
}

// Deployment is a running master, replica and three Sentinels.
type Deployment struct {
	opts            Options
	master, replica *server
	sentinels       []*server
}

// setupLimit bounds Start: three Sentinels find each other through the
// master's hello channel, which each publishes every 2 s.
const setupLimit = 60 * time.Second

// Start runs the deployment and waits until every Sentinel sees the master,
// the replica and the two other Sentinels (and, unless Unsynced, until the
// replica is in sync). It fails the test if a binary is missing.
func Start(t testing.TB, opts Options) *Deployment {
	t.Helper()
	dir := t.TempDir()
	d := &Deployment{opts: opts}
	delay := "0"
	if opts.Unsynced {
		delay = "3600"
	}
	auth := func(args ...string) []string {
		if opts.Password != "" {
			args = append(args, "--requirepass", opts.Password, "--masterauth", opts.Password)
		}
		return append(args, "--save", "", "--appendonly", "no", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", delay)
	}
	d.master = startServer(t, dir, "master", "redis-server", "", auth()...)
	ctx, cancel := context.WithTimeout(context.Background(), setupLimit)
	defer cancel()
	d.must(t, d.master.up(ctx))
	host, port, _ := strings.Cut(d.master.addr, ":")
	d.replica = startServer(t, dir, "replica", "redis-server", "", auth("--replicaof", host, port)...)
	d.must(t, d.replica.up(ctx))
	// The replica first, so that each Sentinel's first INFO of the master lists it.
	d.must(t, d.waitReplicaAttached(ctx))
	for i := range 3 {
		d.sentinels = append(d.sentinels, startServer(t, dir, fmt.Sprintf("sentinel-%d", i+1), "redis-sentinel",
			d.sentinelConfig(host, port)))
	}
	for _, s := range d.sentinels {
		d.must(t, s.up(ctx))
	}
	d.must(t, d.waitSentinelsAgree(ctx))
	if !opts.Unsynced {
		d.must(t, d.WaitInSync(ctx))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range d.servers() {
				t.Logf("%s (%s) log:\n%s", s.name, s.addr, s.logTail())
			}
		}
	})
	return d
}

func (d *Deployment) must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		for _, s := range d.servers() {
			t.Logf("%s (%s) log:\n%s", s.name, s.addr, s.logTail())
		}
		t.Fatal(err)
	}
}

func (d *Deployment) servers() []*server {
	var all []*server
	for _, s := range append([]*server{d.master, d.replica}, d.sentinels...) {
		if s != nil {
			all = append(all, s)
		}
	}
	return all
}

// sentinelConfig fails over one second after the master stops answering.
func (d *Deployment) sentinelConfig(host, port string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sentinel monitor %s %s %s 2\n", MasterName, host, port)
	fmt.Fprintf(&b, "sentinel down-after-milliseconds %s 1000\n", MasterName)
	fmt.Fprintf(&b, "sentinel failover-timeout %s 10000\n", MasterName)
	if d.opts.Password != "" {
		fmt.Fprintf(&b, "sentinel auth-pass %s %s\n", MasterName, d.opts.Password)
	}
	if d.opts.SentinelPassword != "" {
		fmt.Fprintf(&b, "requirepass %s\n", d.opts.SentinelPassword)
	}
	return b.String()
}

// URL addresses the deployment through its Sentinels, as the commands take it.
func (d *Deployment) URL() string {
	var addrs []string
	for _, s := range d.sentinels {
		addrs = append(addrs, s.addr)
	}
	user := ""
	if d.opts.Password != "" {
		user = url.UserPassword("", d.opts.Password).String() + "@"
	}
	q := url.Values{"master": {MasterName}}
	if d.opts.SentinelPassword != "" {
		q.Set("sentinel_password", d.opts.SentinelPassword)
	}
	return "redis-sentinel://" + user + strings.Join(addrs, ",") + "/0?" + q.Encode()
}

// MasterAddr is the first master's address; ReplicaAddr the replica's.
func (d *Deployment) MasterAddr() string  { return d.master.addr }
func (d *Deployment) ReplicaAddr() string { return d.replica.addr }

// KillMaster sends the first master SIGKILL and waits until it is gone.
func (d *Deployment) KillMaster() { d.master.kill() }
