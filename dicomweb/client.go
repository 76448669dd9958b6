package dicomweb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Client. Each field's zero value means the default
// named in its comment.
type Config struct {
	// Base is the service root: http(s)://host[:port]/path, the part every
	// QIDO-RS and WADO-RS URL starts with (Orthanc: /dicom-web).
	Base string
	// InFlight bounds the requests this client has open at once, listing
	// and reading together. Zero means 4.
	InFlight int
	// Rate bounds the requests started per second, as a token bucket
	// holding Burst. Zero means 50; negative means no limit.
	Rate float64
	// Burst is the token bucket's size. Zero means InFlight.
	Burst int
	// Window, when set, is the daily time requests may start in.
	Window Window
	// Timeout bounds one request, its response body included. Zero means
	// 2 minutes.
	Timeout time.Duration
	// Retries is how often a 429 or 503 answer is retried before
	// ErrUnavailable. Zero means 5; negative means never.
	Retries int
	// Backoff is the first wait after a 429 or 503 without Retry-After,
	// doubling (with jitter) up to MaxBackoff. Zero means 1 s and 1 min.
	Backoff, MaxBackoff time.Duration
	// PageSize is the QIDO-RS limit asked per page. Zero means 200.
	PageSize int
	// MaxPageBytes bounds one QIDO-RS answer. Zero means 8 KiB per match
	// asked for (PageSize), at least 4 MiB.
	MaxPageBytes int64
	// MaxBytes bounds an instance read without a limit of its own. Zero
	// means 1 GiB.
	MaxBytes int64
	// TransferSyntaxes are the syntaxes WADO-RS asks for, most wanted
	// first; "*" (as stored) is always asked for last. Nil means
	// DefaultTransferSyntaxes.
	TransferSyntaxes []string
	// Credentials, when nil, are the process's: SetCredentials, else the
	// DIDICM_DICOMWEB_* environment.
	Credentials *Credentials
	// Transport carries the requests. Nil means a clone of
	// http.DefaultTransport with InFlight connections per host.
	Transport http.RoundTripper
}

// maxRetryAfter is the longest Retry-After honoured; a longer one ends the
// retries at once (a batch is retried later with its own backoff).
const maxRetryAfter = 10 * time.Minute

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.InFlight, 4)
	def(&c.Burst, c.InFlight)
	def(&c.Retries, 5)
	def(&c.PageSize, 200)
	if c.Rate == 0 {
		c.Rate = 50
	}
	for _, d := range []struct {
		v *time.Duration
		d time.Duration
	}{{&c.Timeout, 2 * time.Minute}, {&c.Backoff, time.Second}, {&c.MaxBackoff, time.Minute}} {
		if *d.v == 0 {
			*d.v = d.d
		}
	}
	if c.MaxPageBytes == 0 {
		c.MaxPageBytes = max(4<<20, int64(c.PageSize)<<13)
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 1 << 30
	}
	if c.TransferSyntaxes == nil {
		c.TransferSyntaxes = DefaultTransferSyntaxes
	}
	return c
}

// Client speaks DICOMweb to one service: QIDO-RS searches and WADO-RS
// retrieval (STOW-RS is the next to come), within its Config's bounds on
// load. It is safe for concurrent use.
type Client struct {
	cfg   Config
	base  *url.URL
	http  *http.Client
	auth  *authorizer
	slots chan struct{} // one per request in flight
	rate  *rate.Limiter
}

// NewClient checks cfg and makes a client.
func NewClient(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	base, err := url.Parse(strings.TrimSuffix(cfg.Base, "/"))
	switch {
	case err != nil:
		return nil, fmt.Errorf("dicomweb base URL: %w", err)
	case base.Scheme != "http" && base.Scheme != "https" || base.Host == "":
		return nil, fmt.Errorf("dicomweb base URL: want http(s)://host[:port]/path, got scheme %q host %q", base.Scheme, base.Host)
	case base.User != nil:
		return nil, errors.New("dicomweb base URL: credentials in the URL would be stored with the job; set them in the environment or config")
	case base.RawQuery != "" || base.Fragment != "":
		return nil, errors.New("dicomweb base URL: no query or fragment")
	case cfg.InFlight < 1 || cfg.Burst < 1 || cfg.PageSize < 1 || cfg.Timeout < 0 || cfg.MaxBytes < 1 || cfg.MaxPageBytes < 1:
		return nil, fmt.Errorf("dicomweb config: in-flight %d, burst %d, page %d, timeout %s: want positive values",
			cfg.InFlight, cfg.Burst, cfg.PageSize, cfg.Timeout)
	}
	creds := defaultCredentials()
	if cfg.Credentials != nil {
		creds = *cfg.Credentials
	}
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxConnsPerHost, t.MaxIdleConnsPerHost = cfg.InFlight, cfg.InFlight
		tr = t
	}
	lim := rate.NewLimiter(rate.Inf, 0)
	if cfg.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst)
	}
	return &Client{cfg: cfg, base: base, http: &http.Client{Transport: tr}, auth: newAuthorizer(creds, base.Host),
		slots: make(chan struct{}, cfg.InFlight), rate: lim}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// request is one GET: base/path?query with an Accept header; op names it
// in errors. identity asks for the body as it is (no gzip): the service
// should not spend its CPU compressing pixel data.
type request struct {
	op, path string
	query    url.Values
	accept   string
	identity bool
}

// get sends r and passes a successful response to read, within the
// request's timeout and in-flight slot. It waits for the window, the rate
// and a slot first, and retries 429 and 503 (honouring Retry-After).
func (c *Client) get(ctx context.Context, r request, read func(*http.Response) error) error {
	for attempt := 0; ; attempt++ {
		after, err := c.try(ctx, r, read)
		var se *StatusError
		if !errors.As(err, &se) || !errors.Is(err, ErrUnavailable) || attempt >= c.cfg.Retries {
			return err
		}
		if after > maxRetryAfter {
			return fmt.Errorf("%w (the service asks to wait %s)", err, after)
		}
		if err := c.pause(ctx, r.op, c.backoff(attempt, after)); err != nil {
			return errors.Join(err, se)
		}
	}
}

// try is one attempt; for a 429 or 503 it also returns the Retry-After.
func (c *Client) try(ctx context.Context, r request, read func(*http.Response) error) (time.Duration, error) {
	op := r.op
	if err := c.admit(ctx, op); err != nil {
		return 0, err
	}
	defer func() { <-c.slots }()
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := *c.base
	u.Path, u.RawPath = c.base.Path+"/"+r.path, ""
	if raw := c.base.EscapedPath() + "/" + r.path; raw != u.EscapedPath() {
		u.RawPath = raw // keep escaped UIDs escaped
	}
	u.RawQuery = encodeQuery(r.query)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("dicomweb %s: %w", op, err)
	}
	req.Header.Set("Accept", r.accept)
	if r.identity {
		req.Header.Set("Accept-Encoding", "identity")
	}
	if err := c.auth.authorize(req); err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, c.failed(ctx, rctx, op, err, false)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()), &StatusError{Op: op, Code: resp.StatusCode}
	}
	if err := read(resp); err != nil {
		return 0, c.failed(ctx, rctx, op, err, true)
	}
	return 0, nil
}

// admit waits for the time window, the rate limit and an in-flight slot.
func (c *Client) admit(ctx context.Context, op string) error {
	if now := time.Now(); !c.cfg.Window.Contains(now) {
		if err := c.pause(ctx, op, c.cfg.Window.Next(now).Sub(now)); err != nil {
			return fmt.Errorf("%w (%s): %w", ErrOutsideWindow, c.cfg.Window, err)
		}
	}
	if err := c.rate.Wait(ctx); err != nil {
		return fmt.Errorf("dicomweb %s: rate limit: %w", op, err)
	}
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dicomweb %s: waiting for a request slot: %w", op, context.Cause(ctx))
	}
}

// pause waits d, or fails at once when ctx would end first.
func (c *Client) pause(ctx context.Context, op string, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("dicomweb %s: a wait of %s would outlast the deadline", op, d.Round(time.Second))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("dicomweb %s: %w", op, context.Cause(ctx))
	}
}

// failed words a failure: the caller's end as its cause, a timeout as
// ErrTimeout, a failure reading the answer as it is, and a transport
// failure without the request's URL (its query can hold patient
// attributes) and with any secret masked.
func (c *Client) failed(ctx, rctx context.Context, op string, err error, reading bool) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("dicomweb %s: %w", op, context.Cause(ctx))
	case rctx.Err() != nil:
		return fmt.Errorf("dicomweb %s: no complete answer within %s: %w", op, c.cfg.Timeout, ErrTimeout)
	case reading:
		return fmt.Errorf("dicomweb %s: %w", op, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("dicomweb %s: %s", op, c.auth.mask(err.Error()))
}

// encodeQuery writes a query leaving every character RFC 3986 allows in a
// query unescaped, wildcards (*, ?) and commas among them: Orthanc 1.10
// matches QIDO-RS values without decoding percent-escapes, so "*AX*" must
// go as it is. Spaces, '^', non-ASCII and the query's own delimiters are
// escaped (such values match on Orthanc only through wildcards).
func encodeQuery(v url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(v)) {
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escapeQuery(k) + "=" + escapeQuery(val))
		}
	}
	return b.String()
}

func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$'()*,;:@/?", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
