// Package redisurl reads the Redis URLs that every command takes
// (redis.url) into Asynq's connection options:
//
//	redis://[:password@]host:port[/db]        one server (Asynq's own reading)
//	rediss://[:password@]host:port[/db]       the same over TLS
//	redis-socket://[:password@]/path[?db=N]   a Unix socket
//	redis-sentinel://[[user]:password@]host1:port1,host2:port2,…[/db]?master=NAME[&sentinel_password=P]
//
// A redis-sentinel URL names the Sentinels (26379 when a port is left out)
// and the master set they watch; clients ask them for the master and follow
// it through a failover. Its password is the data servers' (requirepass on
// the master and the replicas), as in a redis:// URL; Sentinels that want
// one of their own take sentinel_password. Asynq's own parser would give the
// password to the Sentinels only and ignore the database number.
package redisurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redact"
)

// SentinelScheme is the scheme of a URL that names Sentinels.
const SentinelScheme = "redis-sentinel"

// DefaultSentinelPort is a Sentinel's port when the URL gives none.
const DefaultSentinelPort = "26379"

// Parse reads a Redis URL. Its errors never carry the URL's password.
func Parse(raw string) (asynq.RedisConnOpt, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, errors.New("not a URL: want redis://host:port or redis-sentinel://host:port,…?master=NAME")
	}
	if scheme != SentinelScheme {
		opt, err := asynq.ParseRedisURI(raw)
		if err != nil {
			return nil, errors.New(redact.Error(err)) // url.Parse's errors quote the URL
		}
		return opt, nil
	}
	return parseSentinel(rest)
}

// parseSentinel reads what follows "redis-sentinel://". The host list is
// cut out before url.Parse, which refuses some comma-separated lists
// ("h1:1,h2" reads as a host with the port "1,h2").
func parseSentinel(rest string) (asynq.RedisFailoverClientOpt, error) {
	var opt asynq.RedisFailoverClientOpt
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	u, err := url.Parse("x://" + userinfo + "sentinels" + tail)
	if err != nil {
		return opt, errors.New("redis-sentinel URL does not parse (a password with reserved characters must be percent-encoded)")
	}
	if opt.SentinelAddrs, err = sentinelAddrs(hosts); err != nil {
		return opt, err
	}
	if u.User != nil {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}
	if opt.DB, err = database(u.Path); err != nil {
		return opt, err
	}
	q := u.Query()
	for name := range q {
		if name != "master" && name != "sentinel_password" {
			return opt, fmt.Errorf("redis-sentinel URL: unknown parameter %q (want master and, if the Sentinels need one, sentinel_password)", name)
		}
	}
	if opt.MasterName = q.Get("master"); opt.MasterName == "" {
		return opt, errors.New("redis-sentinel URL: missing ?master=NAME (the master set the Sentinels watch)")
	}
	opt.SentinelPassword = q.Get("sentinel_password")
	return opt, nil
}

func sentinelAddrs(hosts string) ([]string, error) {
	if hosts == "" {
		return nil, errors.New("redis-sentinel URL: no Sentinel addresses (want host1:port1,host2:port2,…)")
	}
	var addrs []string
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil { // no port: the Sentinels' default
			host, port = strings.Trim(h, "[]"), DefaultSentinelPort
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("redis-sentinel URL: bad Sentinel address %q (want host:port)", h)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, nil
}

func database(path string) (int, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return 0, nil
	}
	db, err := strconv.Atoi(p)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("redis-sentinel URL: database %q is not a number", p)
	}
	return db, nil
}
