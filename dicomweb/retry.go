package dicomweb

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryAfter reads a Retry-After header, in seconds or as an HTTP date
// (relative to now); 0 when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is the wait before retry attempt+1: the server's Retry-After
// when it gave one, else Backoff doubled per attempt up to MaxBackoff,
// with jitter (half fixed, half random) so that workers refused together
// do not return together.
func (c *Client) backoff(attempt int, after time.Duration) time.Duration {
	if after > 0 {
		return after
	}
	d := c.cfg.Backoff
	for i := 0; i < attempt && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}
