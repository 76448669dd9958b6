package redisurl_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redact"
	"github.com/didicm/didicm/internal/redisurl"
)

func TestSentinelURLs(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		want      asynq.RedisFailoverClientOpt
	}{
		{"three Sentinels, a database and the data servers' password",
			"redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380,sentinel-3:26381/2?master=didicm",
			asynq.RedisFailoverClientOpt{MasterName: "didicm", SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26380", "sentinel-3:26381"},
				Password: "s3cret", DB: 2}},
		{"a Sentinel without a port listens on 26379, even after one with a port",
			"redis-sentinel://h1:1,h2,[::1]/0?master=m",
			asynq.RedisFailoverClientOpt{MasterName: "m", SentinelAddrs: []string{"h1:1", "h2:26379", "[::1]:26379"}}},
		{"Sentinels with a password of their own, an ACL user and a percent-encoded password",
			"redis-sentinel://didicm:p%40ss%2Fw@h1:1?master=m&sentinel_password=sp",
			asynq.RedisFailoverClientOpt{MasterName: "m", SentinelAddrs: []string{"h1:1"}, Username: "didicm", Password: "p@ss/w",
				SentinelPassword: "sp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := redisurl.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestOtherSchemesReadAsAsynqReadsThem(t *testing.T) {
	for _, u := range []string{"redis://:pw@127.0.0.1:6379/3", "rediss://cache:6380", "redis-socket:///run/redis.sock?db=1"} {
		want, _ := asynq.ParseRedisURI(u)
		got, err := redisurl.Parse(u)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %+v, %v; asynq reads %+v", u, got, err, want)
		}
	}
}

func TestBadURLsAreRefusedWithoutTheirPassword(t *testing.T) {
	const secret = "pa55-w0rd"
	for _, tc := range []struct{ name, url, says string }{
		{"no master set", "redis-sentinel://:" + secret + "@h1:1,h2:2/0", "master"},
		{"a misspelt parameter", "redis-sentinel://:" + secret + "@h1:1/0?master=m&sentinel-password=x", "unknown parameter"},
		{"no Sentinels", "redis-sentinel://:" + secret + "@/0?master=m", "no Sentinel"},
		{"a port that is not a number", "redis-sentinel://:" + secret + "@h1:x/0?master=m", "bad Sentinel address"},
		{"a database that is not a number", "redis-sentinel://:" + secret + "@h1:1/zero?master=m", "database"},
		{"an unknown scheme", "memcached://:" + secret + "@h1:1", "unsupported"},
		{"a redis URL that does not parse", "redis://:" + secret + "@h1:1/%zz", "parse"},
		{"not a URL", secret, "not a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redisurl.Parse(tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v; want one saying %q", err, tc.says)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}

// Every message the commands print goes through redact: a Sentinel URL's
// passwords (the data servers' and the Sentinels') are masked there too.
func TestRedactMasksBothPasswordsOfASentinelURL(t *testing.T) {
	for _, hosts := range []string{"h1:1,h2:2,h3:3", "h1:1,h2,h3"} { // the second does not parse as a net/url URL
		msg := `redis.url: "redis-sentinel://:data-pw@` + hosts + `/0?master=m&sentinel_password=sent-pw": dial tcp: refused`
		got := redact.String(msg)
		if strings.Contains(got, "data-pw") || strings.Contains(got, "sent-pw") || !strings.Contains(got, hosts) {
			t.Fatalf("masked to %q", got)
		}
	}
}
