package review

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// ErrTokenRequired is CheckListen's answer for a non-loopback address
// without a token.
var ErrTokenRequired = errors.New("listening beyond loopback needs a token")

// ErrShortToken is CheckToken's answer for a token that is too short to
// guard anything.
var ErrShortToken = errors.New("token too short")

// MinTokenLength is the fewest characters a token may have.
const MinTokenLength = 16

// CheckListen refuses a listen address that other machines can reach
// (anything but 127.0.0.0/8, ::1 and localhost, including an empty host)
// unless a token guards it.
func CheckListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if token == "" && !loopback(host) {
		return fmt.Errorf("listen address %q: %w (--token)", addr, ErrTokenRequired)
	}
	return nil
}

// CheckToken refuses a token shorter than MinTokenLength (empty means
// none). The message never holds the token.
func CheckToken(token string) error {
	if token != "" && len(token) < MinTokenLength {
		return fmt.Errorf("%w: %d characters, want at least %d", ErrShortToken, len(token), MinTokenLength)
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard sets the headers every answer shares, refuses requests that other
// sites' pages make (Fetch Metadata), and checks the token (or, without
// one, that the request was addressed to a loopback host, against DNS
// rebinding).
func (s *Server) guard(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !ownSite(r) {
			http.Error(w, "this server answers only its own page's requests", http.StatusForbidden)
			return
		}
		if s.cfg.Token == "" {
			if !loopbackHost(r.Host) {
				http.Error(w, "this server answers only on a loopback address", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok && r.Method == http.MethodGet && r.URL.Path == "/" {
			got = r.URL.Query().Get("token")
		}
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			h.Set("WWW-Authenticate", `Bearer realm="didicm review"`)
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ownSite reports whether a request may be answered by its Fetch Metadata:
// one the page itself makes (same-origin), one the user makes (none: a
// typed address or a bookmark), or one without the header (not a browser,
// or a browser that sends none to a plain-http LAN address; the token
// guards those). Requests from other sites' pages are refused, same-site
// ones too (another port on localhost is the same site), except a
// top-level navigation to the page itself, which shows another site
// nothing.
func ownSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return r.Method == http.MethodGet && r.URL.Path == "/" &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document"
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	return loopback(strings.Trim(host, "[]"))
}

// bearer reads an Authorization header of the Bearer scheme, in any case
// (RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
