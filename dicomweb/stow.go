package dicomweb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tags of a STOW-RS answer (PS3.18 10.5.3, the Store Instances Response
// Module).
const (
	TagFailedSOPSequence     = "00081198"
	TagReferencedSOPSequence = "00081199"
	TagReferencedSOPInstance = "00081155"
	TagFailureReason         = "00081197"
	TagWarningReason         = "00081196"
)

// ErrStoreFailed: the service refused an instance sent with STOW-RS (a
// 409 answer, or the instance in the answer's Failed SOP Sequence).
// Sending it again fails the same way.
var ErrStoreFailed = errors.New("DICOMweb service did not store the instance")

// StoreResult is what a STOW-RS answer says of the instances sent.
type StoreResult struct {
	// Stored are the SOP Instance UIDs the service stored (or already
	// held); Failed those it refused, each with its failure reason (a
	// DICOM status, such as 0xA700 for out of resources, 0 when unsaid).
	Stored []string
	Failed map[string]int
	// Warnings are the stored instances the service coerced or warned of.
	Warnings []string
}

// maxStoreAnswer bounds a STOW-RS answer's body.
const maxStoreAnswer = 4 << 20

// StoreInstances sends instances (Part 10 files) with STOW-RS: POST
// {base}/studies, or {base}/studies/{study} when study is set (the
// service then refuses instances of other studies), as one
// multipart/related; type="application/dicom" request, within the
// client's bounds on load; 429 and 503 answers are retried as for reads.
// A 409 answer, or a 200 or 202 whose Failed SOP Sequence names an
// instance, is an error wrapping ErrStoreFailed; the result says which
// instances were stored and which failed.
func (c *Client) StoreInstances(ctx context.Context, study string, instances ...[]byte) (StoreResult, error) {
	if len(instances) == 0 {
		return StoreResult{}, nil
	}
	path := "studies"
	if study != "" {
		if err := checkUID(study); err != nil {
			return StoreResult{}, fmt.Errorf("dicomweb STOW: %w", err)
		}
		path += "/" + url.PathEscape(study)
	}
	body, ctype := multipartDICOM(instances)
	op := "STOW " + path
	var res StoreResult
	for attempt := 0; ; attempt++ {
		var answer []byte
		code, after, err := c.post(ctx, op, path, ctype, body, &answer)
		if err == nil {
			res, err = parseStoreAnswer(op, code, answer)
			return res, err
		}
		var se *StatusError
		if !errors.As(err, &se) || !errors.Is(err, ErrUnavailable) || attempt >= c.cfg.Retries || after > maxRetryAfter {
			return res, err
		}
		if err := c.pause(ctx, op, c.backoff(attempt, after)); err != nil {
			return res, errors.Join(err, se)
		}
	}
}

// multipartDICOM frames instances as a multipart/related body.
func multipartDICOM(instances [][]byte) ([]byte, string) {
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	boundary := "didicm-" + hex.EncodeToString(rnd[:])
	var b bytes.Buffer
	for _, inst := range instances {
		b.WriteString("--" + boundary + "\r\nContent-Type: application/dicom\r\nContent-Length: " +
			strconv.Itoa(len(inst)) + "\r\n\r\n")
		b.Write(inst)
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), `multipart/related; type="application/dicom"; boundary=` + boundary
}

// post sends one POST within the client's bounds; it returns the status
// and, for a 429 or 503, the Retry-After. 200, 202 and 409 answers (the
// ones STOW-RS gives a body for) are read into answer.
func (c *Client) post(ctx context.Context, op, path, ctype string, body []byte, answer *[]byte) (int, time.Duration, error) {
	if err := c.admit(ctx, op); err != nil {
		return 0, 0, err
	}
	defer func() { <-c.slots }()
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := *c.base
	u.Path, u.RawPath = c.base.Path+"/"+path, ""
	if raw := c.base.EscapedPath() + "/" + path; raw != u.EscapedPath() {
		u.RawPath = raw
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("dicomweb %s: %w", op, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/dicom+json")
	if err := c.auth.authorize(req); err != nil {
		return 0, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, c.failed(ctx, rctx, op, err, false)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusConflict:
	default:
		drain(resp.Body)
		return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), &StatusError{Op: op, Code: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxStoreAnswer+1))
	if err != nil {
		return 0, 0, c.failed(ctx, rctx, op, err, true)
	}
	if len(data) > maxStoreAnswer {
		return 0, 0, fmt.Errorf("dicomweb %s: %w: answer over %d bytes", op, ErrBadResponse, maxStoreAnswer)
	}
	// Orthanc 1.10 sends its 409 answer without a content type.
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); len(data) > 0 && mt != "" &&
		mt != "application/dicom+json" && mt != "application/json" {
		return 0, 0, fmt.Errorf("dicomweb %s: %w: answer of type %q", op, ErrBadResponse, mt)
	}
	*answer = data
	return resp.StatusCode, 0, nil
}

// parseStoreAnswer reads a STOW-RS answer (DICOM JSON, one dataset) into
// a result; failures and a 409 are ErrStoreFailed.
func parseStoreAnswer(op string, code int, data []byte) (StoreResult, error) {
	res := StoreResult{Failed: map[string]int{}}
	var ds Match
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &ds); err != nil {
			var list []json.RawMessage // some services answer with a one-dataset array
			if json.Unmarshal(data, &list) != nil || len(list) != 1 || json.Unmarshal(list[0], &ds) != nil {
				return res, fmt.Errorf("dicomweb %s: %w: %w", op, ErrBadResponse, err)
			}
		}
	}
	stored, err := items(ds, TagReferencedSOPSequence)
	if err != nil {
		return res, fmt.Errorf("dicomweb %s: %w: %w", op, ErrBadResponse, err)
	}
	for _, m := range stored {
		res.Stored = append(res.Stored, m.String(TagReferencedSOPInstance))
		if _, warned := m[TagWarningReason]; warned {
			res.Warnings = append(res.Warnings, m.String(TagReferencedSOPInstance))
		}
	}
	failed, err := items(ds, TagFailedSOPSequence)
	if err != nil {
		return res, fmt.Errorf("dicomweb %s: %w: %w", op, ErrBadResponse, err)
	}
	for _, m := range failed {
		reason, _ := m.Int(TagFailureReason)
		res.Failed[m.String(TagReferencedSOPInstance)] = reason
	}
	if code == http.StatusConflict || len(res.Failed) > 0 {
		var reasons []string
		for _, uid := range slices.Sorted(maps.Keys(res.Failed)) {
			reasons = append(reasons, fmt.Sprintf("%s (status %#04x)", uid, res.Failed[uid]))
		}
		return res, fmt.Errorf("dicomweb %s: %d %s: %w: %s", op, code, http.StatusText(code), ErrStoreFailed,
			strings.Join(reasons, ", "))
	}
	return res, nil
}

// items are the items of a sequence attribute of a DICOM JSON dataset.
func items(ds Match, tag string) ([]Match, error) {
	e, ok := ds[tag]
	if !ok {
		e = ds[strings.ToLower(tag)]
	}
	var out []Match
	for _, raw := range e.Value {
		var m Match
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
		out = append(out, m)
	}
	return out, nil
}
