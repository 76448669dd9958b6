package dicomweb_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/storage"
)

// client opens a source on root with these credentials.
func withCredentials(t testing.TB, root string, c dicomweb.Credentials) *dicomweb.Source {
	t.Helper()
	cl, err := dicomweb.NewClient(dicomweb.Config{Base: root, Rate: -1, Credentials: &c})
	if err != nil {
		t.Fatal(err)
	}
	s := dicomweb.New(cl, dicomweb.Search{})
	t.Cleanup(func() { s.Close() })
	return s
}

// noSecret fails the test if err's text holds any of the secrets.
func noSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(fmt.Sprint(err), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
			t.Fatalf("the error shows a secret: %v", err)
		}
	}
}

func TestBasicCredentialsOpenAnOrthancThatRequiresThem(t *testing.T) {
	const pass = "pa55-w0rd-secret"
	o := orthanctest.Start(t, orthanctest.Options{Users: map[string]string{"reader": pass}})
	e := corpusEntry(t, "chest-ct-scout-1-explicit")
	if err := o.Upload(context.Background(), e.data); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]dicomweb.Credentials{"none": {}, "a wrong password": {Username: "reader", Password: "wrong-" + pass}} {
		t.Run(name, func(t *testing.T) {
			_, err := tryWalk(withCredentials(t, o.DICOMweb(), c), "", storage.Filter{})
			if !errors.Is(err, dicomweb.ErrUnauthorized) {
				t.Fatalf("walk: %v", err)
			}
			noSecret(t, err, pass)
		})
	}
	t.Run("the right ones, from the environment", func(t *testing.T) {
		dicomweb.ResetCredentials()
		t.Setenv(dicomweb.EnvUsername, "reader")
		t.Setenv(dicomweb.EnvPassword, pass)
		s := open(t, sourceURL(o.DICOMweb(), ""))
		sameKeys(t, walk(t, s, "", storage.Filter{}), []string{e.key()})
		if data, err := s.Read(context.Background(), e.key(), 0); err != nil || len(data) != len(e.data) {
			t.Fatalf("read: %d bytes, %v", len(data), err)
		}
	})
	t.Run("the right ones, set for the process", func(t *testing.T) {
		defer dicomweb.ResetCredentials()
		if err := dicomweb.SetCredentials(dicomweb.Credentials{Username: "reader", Password: pass}); err != nil {
			t.Fatal(err)
		}
		sameKeys(t, walk(t, open(t, sourceURL(o.DICOMweb(), "")), "", storage.Filter{}), []string{e.key()})
	})
}

// bearer is a proxy hook that lets through requests carrying one of the
// tokens and answers others 401 with what they sent (servers echo).
type bearer struct {
	mu     sync.Mutex
	tokens []string
	seen   []string // Authorization headers received
}

func (b *bearer) hook(w http.ResponseWriter, r *http.Request) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := r.Header.Get("Authorization")
	b.seen = append(b.seen, got)
	for _, tok := range b.tokens {
		if got == "Bearer "+tok {
			r.Header.Del("Authorization")
			return false
		}
	}
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, `{"error": "invalid credentials %q"}`, got)
	return true
}

func TestABearerTokenIsSentAndNeverShown(t *testing.T) {
	const tok = "tok-0123456789abcdef"
	p := newProxy(t, pacs.URL)
	b := &bearer{tokens: []string{tok}}
	p.setHook(b.hook)
	e := corpusEntry(t, "chest-ct-scout-1-explicit")
	if _, err := withCredentials(t, p.root(), dicomweb.Credentials{Token: tok}).Read(context.Background(), e.key(), 0); err != nil {
		t.Fatal(err)
	}
	wrong := "tok-wrong-fedcba9876543210"
	_, err := withCredentials(t, p.root(), dicomweb.Credentials{Token: wrong}).Read(context.Background(), e.key(), 0)
	if !errors.Is(err, dicomweb.ErrUnauthorized) {
		t.Fatalf("read with a wrong token: %v", err)
	}
	noSecret(t, err, wrong)
	if s := fmt.Sprint(dicomweb.Credentials{Token: tok}, dicomweb.Credentials{Username: "u", Password: "pa55-w0rd"}); strings.Contains(s, tok) ||
		strings.Contains(s, "pa55") {
		t.Fatalf("credentials print as %s", s)
	}
}

func TestATokenFileIsReadAgainWhenItChanges(t *testing.T) {
	p := newProxy(t, pacs.URL)
	b := &bearer{tokens: []string{"first-token"}}
	p.setHook(b.hook)
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("first-token\n"), 0o600)
	s := withCredentials(t, p.root(), dicomweb.Credentials{TokenFile: file})
	e := corpusEntry(t, "chest-ct-scout-1-explicit")
	if _, err := s.Read(context.Background(), e.key(), 0); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.tokens = []string{"the-second-token"} // the first expired
	b.mu.Unlock()
	os.WriteFile(file, []byte("the-second-token\n"), 0o600)
	if _, err := s.Read(context.Background(), e.key(), 0); err != nil {
		t.Fatalf("read after the token file changed: %v", err)
	}
}

func TestCredentialsGoOnlyToTheirHostAndNotAcrossARedirect(t *testing.T) {
	const tok = "tok-for-the-pacs-only"
	var mu sync.Mutex
	var auth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	e := corpusEntry(t, "chest-ct-scout-1-explicit")
	t.Run("a host the credentials are not for", func(t *testing.T) {
		s := withCredentials(t, other.URL+"/dicom-web", dicomweb.Credentials{Token: tok, Host: "pacs.example.org"})
		s.Read(context.Background(), e.key(), 0)
	})
	t.Run("a redirect to another host", func(t *testing.T) {
		p := newProxy(t, pacs.URL)
		p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			to := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + r.URL.Path
			http.Redirect(w, r, to, http.StatusFound)
			return true
		})
		s := withCredentials(t, p.root(), dicomweb.Credentials{Token: tok})
		if _, err := s.Read(context.Background(), e.key(), 0); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("read: %v", err)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 2 || auth[0] != "" || auth[1] != "" {
		t.Fatalf("the other host got Authorization headers %q", auth)
	}
}

func TestCredentialsInTheURLAreRefusedWithoutShowingThem(t *testing.T) {
	_, _, err := dicomweb.ParseURL("dicomweb+https://reader:pa55-w0rd-secret@pacs.example.org/dicom-web")
	if err == nil {
		t.Fatal("a URL with a password was accepted")
	}
	noSecret(t, err, "pa55-w0rd-secret")
}

func TestMixedCredentialsAreRefused(t *testing.T) {
	for _, c := range []dicomweb.Credentials{{Username: "u", Password: "p", Token: "t"}, {Password: "p"}, {Token: "t", TokenFile: "f"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
