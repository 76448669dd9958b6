package dicomweb

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Credentials authenticate requests to a DICOMweb service: HTTP basic
// (Username and Password) or a bearer token (Token, or TokenFile read again
// whenever the file changes, for tokens that a sidecar refreshes). They are
// sent only in the Authorization header, never written to an error or a
// log line, and dropped by the HTTP client on a redirect to another host.
type Credentials struct {
	Username, Password string
	Token              string
	TokenFile          string
	// Host, when set, is the only host (as in the URL: "pacs.example.org"
	// or "pacs:8042") the credentials are sent to: a job naming another
	// service gets none. Empty: every DICOMweb service this process reads.
	Host string
}

// The environment variables CredentialsFromEnv reads; `didicm` reads the
// same through its config (dicomweb.username and so on).
const (
	EnvUsername  = "DIDICM_DICOMWEB_USERNAME"
	EnvPassword  = "DIDICM_DICOMWEB_PASSWORD"
	EnvToken     = "DIDICM_DICOMWEB_TOKEN"
	EnvTokenFile = "DIDICM_DICOMWEB_TOKEN_FILE"
	EnvHost      = "DIDICM_DICOMWEB_HOST"
)

// CredentialsFromEnv reads the DIDICM_DICOMWEB_* variables.
func CredentialsFromEnv() Credentials {
	return Credentials{Username: os.Getenv(EnvUsername), Password: os.Getenv(EnvPassword),
		Token: os.Getenv(EnvToken), TokenFile: os.Getenv(EnvTokenFile), Host: os.Getenv(EnvHost)}
}

// Validate refuses a mix of basic and bearer, or half a basic pair.
func (c Credentials) Validate() error {
	basic, bearer := c.Username != "" || c.Password != "", c.Token != "" || c.TokenFile != ""
	switch {
	case basic && bearer:
		return errors.New("dicomweb credentials: both a username/password and a token are set; set one")
	case c.Username == "" && c.Password != "":
		return errors.New("dicomweb credentials: a password without a username")
	case c.Token != "" && c.TokenFile != "":
		return errors.New("dicomweb credentials: both a token and a token file are set; set one")
	}
	return nil
}

// String never shows a secret.
func (c Credentials) String() string {
	switch {
	case c.Username != "":
		return "basic (user " + c.Username + ")"
	case c.Token != "":
		return "bearer token"
	case c.TokenFile != "":
		return "bearer token from " + c.TokenFile
	}
	return "none"
}

var (
	processMu    sync.Mutex
	processCreds *Credentials // nil until SetCredentials: the environment's
)

// SetCredentials sets the credentials of every source this process opens
// by URL afterwards (the commands call it once with their config). Without
// it, Open reads CredentialsFromEnv.
func SetCredentials(c Credentials) error {
	if err := c.Validate(); err != nil {
		return err
	}
	processMu.Lock()
	defer processMu.Unlock()
	processCreds = &c
	return nil
}

func defaultCredentials() Credentials {
	processMu.Lock()
	defer processMu.Unlock()
	if processCreds != nil {
		return *processCreds
	}
	return CredentialsFromEnv()
}

// authorizer adds the Authorization header and masks its secrets in text.
type authorizer struct {
	creds Credentials
	host  string // of the service: credentials are for it or for nobody

	mu      sync.Mutex
	token   []byte // from TokenFile
	modTime time.Time
	size    int64
}

func newAuthorizer(c Credentials, host string) *authorizer {
	if c.Host != "" && !strings.EqualFold(c.Host, host) {
		c = Credentials{} // for another service
	}
	return &authorizer{creds: c, host: host}
}

// authorize sets the request's Authorization header.
func (a *authorizer) authorize(req *http.Request) error {
	switch {
	case a.creds.Username != "":
		req.SetBasicAuth(a.creds.Username, a.creds.Password)
	case a.creds.Token != "":
		req.Header.Set("Authorization", "Bearer "+a.creds.Token)
	case a.creds.TokenFile != "":
		tok, err := a.fileToken()
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// fileToken reads TokenFile when it is new or changed since the last read.
func (a *authorizer) fileToken() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := os.Stat(a.creds.TokenFile)
	if err != nil {
		return "", fmt.Errorf("dicomweb token file: %w", err)
	}
	if a.token == nil || !st.ModTime().Equal(a.modTime) || st.Size() != a.size {
		if st.Size() > 64<<10 {
			return "", fmt.Errorf("dicomweb token file %s: %d bytes, not a token", a.creds.TokenFile, st.Size())
		}
		b, err := os.ReadFile(a.creds.TokenFile)
		if err != nil {
			return "", fmt.Errorf("dicomweb token file: %w", err)
		}
		a.token, a.modTime, a.size = bytes.TrimSpace(b), st.ModTime(), st.Size()
	}
	if len(a.token) == 0 {
		return "", fmt.Errorf("dicomweb token file %s is empty", a.creds.TokenFile)
	}
	return string(a.token), nil
}

// mask replaces every secret of the credentials in s: what an error built
// from server text or a transport failure may carry.
func (a *authorizer) mask(s string) string {
	a.mu.Lock()
	secrets := []string{a.creds.Password, a.creds.Token, string(a.token)}
	if a.creds.Username != "" {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(a.creds.Username+":"+a.creds.Password)))
	}
	a.mu.Unlock()
	for _, sec := range secrets {
		if len(sec) >= 4 { // shorter "secrets" would mask ordinary words
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}
