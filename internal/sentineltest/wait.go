package sentineltest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

func (d *Deployment) sentinel(s *server) *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: s.addr, Password: d.opts.SentinelPassword, MaxRetries: -1})
}

// waitReplicaAttached waits until the master lists the replica (synced or not).
func (d *Deployment) waitReplicaAttached(ctx context.Context) error {
	c := d.master.client(d.opts.Password)
	defer c.Close()
	return poll(ctx, "the master lists the replica", func() (bool, string) {
		m, err := info(ctx, c, "replication")
		if err != nil {
			return false, err.Error()
		}
		return m["slave0"] != "", fmt.Sprint(m)
	})
}

// waitSentinelsAgree waits until every Sentinel watches the master and
// knows the replica and the two other Sentinels: then a quorum can vote.
func (d *Deployment) waitSentinelsAgree(ctx context.Context) error {
	for _, s := range d.sentinels {
		c := d.sentinel(s)
		err := poll(ctx, s.name+" knows the master, the replica and 2 other Sentinels", func() (bool, string) {
			m, err := c.Master(ctx, MasterName).Result()
			if err != nil {
				return false, err.Error()
			}
			return m["flags"] == "master" && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2", fmt.Sprint(m)
		})
		_ = c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// WaitInSync waits until the replica's link to the master is up and it has
// applied every write the master had taken when the wait began.
func (d *Deployment) WaitInSync(ctx context.Context) error {
	mc, rc := d.master.client(d.opts.Password), d.replica.client(d.opts.Password)
	defer mc.Close()
	defer rc.Close()
	m, err := info(ctx, mc, "replication")
	if err != nil {
		return fmt.Errorf("master INFO: %w", err)
	}
	target, _ := strconv.ParseInt(m["master_repl_offset"], 10, 64)
	return poll(ctx, fmt.Sprintf("the replica is in sync (offset %d)", target), func() (bool, string) {
		r, err := info(ctx, rc, "replication")
		if err != nil {
			return false, err.Error()
		}
		off, _ := strconv.ParseInt(r["slave_repl_offset"], 10, 64)
		return r["master_link_status"] == "up" && off >= target, fmt.Sprintf("link %s, offset %d", r["master_link_status"], off)
	})
}

// ReplicaSyncing reports whether the replica is still waiting for its first
// sync: its link is down and has never been up.
func (d *Deployment) ReplicaSyncing(ctx context.Context) (bool, error) {
	rc := d.replica.client(d.opts.Password)
	defer rc.Close()
	r, err := info(ctx, rc, "replication")
	if err != nil {
		return false, err
	}
	return r["role"] == "slave" && r["master_link_status"] == "down" && r["master_link_down_since_seconds"] == "-1", nil
}

// WaitFailover waits until every Sentinel names the replica as the master
// and the replica says it is one (ROLE); it returns the new master's address.
func (d *Deployment) WaitFailover(ctx context.Context) (string, error) {
	rc := d.replica.client(d.opts.Password)
	defer rc.Close()
	for _, s := range d.sentinels {
		c := d.sentinel(s)
		err := poll(ctx, s.name+" names the replica as master", func() (bool, string) {
			addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
			if err != nil {
				return false, err.Error()
			}
			return len(addr) == 2 && addr[0]+":"+addr[1] == d.replica.addr, fmt.Sprint(addr)
		})
		_ = c.Close()
		if err != nil {
			return "", err
		}
	}
	err := poll(ctx, "the replica's ROLE is master", func() (bool, string) {
		role, err := rc.Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 {
			return false, fmt.Sprint(role, err)
		}
		return role[0] == "master", fmt.Sprint(role[0])
	})
	return d.replica.addr, err
}
