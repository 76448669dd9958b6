package dicomweb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrBadKey marks a string that is not an instance key.
var ErrBadKey = errors.New("not a DICOMweb instance key (want studies/UID/series/UID/instances/UID)")

// Key names one instance: its study, series and SOP instance UIDs. Its
// string form is the instance's WADO-RS path below the service root,
//
//	studies/{study}/series/{series}/instances/{sop}
//
// which is also the object key a job's manifest and records carry.
type Key struct {
	Study, Series, Instance string
}

// maxUID bounds a UID in a key: the standard allows 64 characters; some
// archives hold longer, non-conformant ones, which still have to be read.
const maxUID = 128

// String is the key's WADO-RS path.
func (k Key) String() string {
	return "studies/" + k.Study + "/series/" + k.Series + "/instances/" + k.Instance
}

// path is the key's path with every UID escaped for a URL.
func (k Key) path() string {
	return "studies/" + url.PathEscape(k.Study) + "/series/" + url.PathEscape(k.Series) +
		"/instances/" + url.PathEscape(k.Instance)
}

// ParseKey reads a key's string form. Each UID must be a non-empty path
// segment other than "." and "..", of at most 128 bytes without '/',
// '?', '#', control characters or spaces: nothing that could make the
// request name another resource.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 6 || parts[0] != "studies" || parts[2] != "series" || parts[4] != "instances" {
		return Key{}, fmt.Errorf("%q: %w", s, ErrBadKey)
	}
	k := Key{Study: parts[1], Series: parts[3], Instance: parts[5]}
	for _, uid := range []string{k.Study, k.Series, k.Instance} {
		if err := checkUID(uid); err != nil {
			return Key{}, fmt.Errorf("%q: %w: %w", s, ErrBadKey, err)
		}
	}
	return k, nil
}

// checkUID accepts a UID as a path segment (see ParseKey).
func checkUID(uid string) error {
	if uid == "" || uid == "." || uid == ".." || len(uid) > maxUID {
		return fmt.Errorf("UID %q: empty, a dot segment or over %d bytes", uid, maxUID)
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; c <= ' ' || c == '/' || c == '?' || c == '#' || c == '\\' || c >= 0x7f {
			return fmt.Errorf("UID %q: byte %#x not allowed", uid, c)
		}
	}
	return nil
}
