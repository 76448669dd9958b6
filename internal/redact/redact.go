// Package redact masks credentials in text meant for people: URLs with a
// password (redis://:secret@host), secret query values (?secret_key=…,
// X-Amz-Signature=…) and the DSN-style key=value pairs of the same names.
// Every error and log line the commands print goes through it.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a secret.
const Mask = "xxxxx"

// secretNames are query and key=value names whose values are secrets
// (compared in lower case, with '-' read as '_').
var secretNames = []string{"password", "passwd", "pass", "pwd", "secret", "secret_key", "secret_access_key",
	"access_key", "access_key_id", "aws_access_key_id", "aws_secret_access_key", "session_token", "token",
	"sig", "signature", "x_amz_signature", "x_amz_credential", "x_amz_security_token", "sas", "key", "apikey",
	"api_key", "credential", "credentials", "sentinel_password"}

func isSecretName(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	for _, s := range secretNames {
		if n == s {
			return true
		}
	}
	return false
}

// urlRE finds URL-like words: scheme://… up to a space or quote.
var urlRE = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// userinfoRE finds "//user:password@" where a URL does not parse.
var userinfoRE = regexp.MustCompile(`(//[^/\s:@"']*:)[^@\s/"']*@`)

// pairRE finds name=value pairs (DSNs, query strings written out).
var pairRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_-]*)=([^\s&;,"']+)`)

// URL masks the password and the secret query values of one URL. Text that
// does not parse as a URL is masked as String does.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return userinfoRE.ReplaceAllString(raw, "${1}"+Mask+"@")
	}
	changed := false
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Mask)
		changed = true
	}
	q := u.Query()
	for name := range q {
		if isSecretName(name) {
			q.Set(name, Mask)
			changed = true
		}
	}
	if !changed {
		return raw
	}
	u.RawQuery = q.Encode()
	return strings.ReplaceAll(u.String(), url.QueryEscape(Mask), Mask)
}

// String masks every URL and every secret name=value pair in s.
func String(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "=") {
		return s
	}
	s = urlRE.ReplaceAllStringFunc(s, URL)
	return pairRE.ReplaceAllStringFunc(s, func(pair string) string {
		m := pairRE.FindStringSubmatch(pair)
		if isSecretName(m[1]) && m[2] != Mask {
			return m[1] + "=" + Mask
		}
		return pair
	})
}

// Error masks an error's message (nil stays nil).
func Error(err error) string {
	if err == nil {
		return ""
	}
	return String(err.Error())
}
