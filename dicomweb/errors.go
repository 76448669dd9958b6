package dicomweb

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/didicm/didicm/storage"
)

// Sentinels callers branch on. A missing instance is storage.ErrNotFound
// (the worker's error record), one over the reader's limit
// storage.ErrTooLarge; the others are transient: a batch that meets them
// is retried.
var (
	// ErrUnavailable: the service answered 429 or 503 on every retry.
	ErrUnavailable = errors.New("DICOMweb service unavailable")
	// ErrTimeout: a request got no complete answer within Config.Timeout.
	ErrTimeout = errors.New("DICOMweb request timed out")
	// ErrUnauthorized: the service refused the credentials (401, 403).
	ErrUnauthorized = errors.New("DICOMweb service refused the credentials")
	// ErrIncomplete: a listing came back shorter than the service's own
	// count (a page cap that paging cannot get past).
	ErrIncomplete = errors.New("DICOMweb listing incomplete")
	// ErrBadResponse: the answer is not what the standard says.
	ErrBadResponse = errors.New("malformed DICOMweb response")
)

// StatusError is an HTTP answer other than success. Op names the request
// without its query (which can hold patient attributes) and without the
// service's host; the response body is not kept (servers echo requests).
type StatusError struct {
	Op   string // e.g. "WADO studies/1.2/series/1.3/instances/1.4"
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("dicomweb %s: %d %s", e.Op, e.Code, http.StatusText(e.Code))
}

// Unwrap maps the status to the sentinel callers branch on.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case http.StatusNotFound, http.StatusGone:
		return storage.ErrNotFound
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return ErrUnavailable
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	}
	return nil
}

// ErrPageTooLarge: a QIDO-RS answer over Config.MaxPageBytes (a server
// that ignores limit, or attributes nobody asked for).
var ErrPageTooLarge = errors.New("DICOMweb search page too large")
