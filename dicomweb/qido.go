package dicomweb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Tags of the attributes a listing reads, as QIDO-RS names them.
const (
	TagStudyUID          = "0020000D"
	TagSeriesUID         = "0020000E"
	TagSOPInstanceUID    = "00080018"
	TagModality          = "00080060"
	TagSeriesDescription = "0008103E"
	TagBodyPartExamined  = "00180015"
	TagImageType         = "00080008"
	TagStudySeries       = "00201206" // Number of Study Related Series
	TagSeriesInstances   = "00201209" // Number of Series Related Instances
)

// Element is one attribute of a QIDO-RS match in the DICOM JSON model
// (PS3.18 F.2): its VR and values.
type Element struct {
	VR    string            `json:"vr"`
	Value []json.RawMessage `json:"Value"`
}

// Match is one QIDO-RS result: attributes by tag (8 hex digits).
type Match map[string]Element

// Strings returns an attribute's values as text: strings as they are,
// numbers as written, person names by their alphabetic form.
func (m Match) Strings(tag string) []string {
	e, ok := m[tag]
	if !ok {
		e, ok = m[strings.ToLower(tag)]
	}
	if !ok {
		return nil
	}
	out := make([]string, 0, len(e.Value))
	for _, raw := range e.Value {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var pn struct{ Alphabetic string }
		if json.Unmarshal(raw, &pn) == nil && pn.Alphabetic != "" {
			out = append(out, pn.Alphabetic)
			continue
		}
		out = append(out, strings.TrimSpace(string(raw)))
	}
	return out
}

// String returns an attribute's first value as text, or "".
func (m Match) String(tag string) string {
	if v := m.Strings(tag); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Int returns an attribute's first value as an integer (IS and US values
// come as numbers or strings).
func (m Match) Int(tag string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(m.String(tag)))
	return n, err == nil
}

// Query is a QIDO-RS search below one level of the hierarchy.
type Query struct {
	// Match holds matching keys: attribute (keyword or tag) → value, as
	// QIDO-RS takes them (20240101-20240131, *AX*, UID lists with commas).
	Match url.Values
	// IncludeFields are attributes to return beyond the level's defaults.
	IncludeFields []string
	// Expect, when above zero, is how many matches the service said there
	// are (a parent's Number of ... Related ...): paging ends there, and a
	// listing that ends short of it fails with ErrIncomplete.
	Expect int
}

// SearchStudies calls fn for each study matching q, page by page.
func (c *Client) SearchStudies(ctx context.Context, q Query, fn func(Match) error) error {
	return c.search(ctx, "studies", TagStudyUID, q, fn)
}

// SearchSeries calls fn for each series of study matching q.
func (c *Client) SearchSeries(ctx context.Context, study string, q Query, fn func(Match) error) error {
	return c.search(ctx, "studies/"+url.PathEscape(study)+"/series", TagSeriesUID, q, fn)
}

// SearchInstances calls fn for each instance of a series matching q.
func (c *Client) SearchInstances(ctx context.Context, study, series string, q Query, fn func(Match) error) error {
	path := "studies/" + url.PathEscape(study) + "/series/" + url.PathEscape(series) + "/instances"
	return c.search(ctx, path, TagSOPInstanceUID, q, fn)
}

// search pages through path with limit and offset, calling fn for each
// match the first time its UID (uidTag) is seen, after the page's request
// has ended (so fn may make requests of its own). Paging ends on a page
// with nothing new (servers that cap pages send short ones before the
// end, so a short page is not the end) or at q.Expect.
func (c *Client) search(ctx context.Context, path, uidTag string, q Query, fn func(Match) error) error {
	seen := map[string]struct{}{}
	for offset := 0; ; {
		v := url.Values{}
		for k, vals := range q.Match {
			v[k] = vals
		}
		if len(q.IncludeFields) > 0 {
			v.Set("includefield", strings.Join(q.IncludeFields, ","))
		}
		v.Set("limit", strconv.Itoa(c.cfg.PageSize))
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		op := fmt.Sprintf("QIDO %s (offset %d)", path, offset)
		var page []Match
		err := c.get(ctx, request{op: op, path: path, query: v, accept: "application/dicom+json"}, func(resp *http.Response) error {
			var err error
			page, err = readPage(resp, c.cfg.MaxPageBytes)
			return err
		})
		if err != nil {
			return err
		}
		fresh := 0
		for _, m := range page {
			uid := m.String(uidTag)
			if uid == "" {
				return fmt.Errorf("dicomweb %s: %w: a match without its UID (%s)", op, ErrBadResponse, uidTag)
			}
			if _, dup := seen[uid]; dup {
				continue
			}
			seen[uid] = struct{}{}
			fresh++
			if err := fn(m); err != nil {
				return err
			}
		}
		offset += len(page)
		if fresh == 0 || q.Expect > 0 && len(seen) >= q.Expect {
			break
		}
	}
	if q.Expect > 0 && len(seen) < q.Expect {
		return fmt.Errorf("dicomweb QIDO %s: %d of the %d matches the service counts; its page cap stops paging "+
			"(Orthanc: set LimitFindResults and LimitFindInstances to 0): %w", path, len(seen), q.Expect, ErrIncomplete)
	}
	return nil
}

// readPage decodes one QIDO-RS answer: a JSON array of matches, at most
// max bytes; 204 No Content and an empty body are an empty page.
func readPage(resp *http.Response, max int64) ([]Match, error) {
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/dicom+json" && mt != "application/json" {
		return nil, fmt.Errorf("%w: content type %q, want application/dicom+json", ErrBadResponse, mt)
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: a page of %d bytes, limit %d", ErrPageTooLarge, resp.ContentLength, max)
	}
	lr := &io.LimitedReader{R: resp.Body, N: max + 1}
	dec := json.NewDecoder(lr)
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '[' {
		return nil, pageError(lr, err, "not a JSON array")
	}
	var page []Match
	for dec.More() {
		var m Match
		if err := dec.Decode(&m); err != nil {
			return nil, pageError(lr, err, "a match")
		}
		page = append(page, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, pageError(lr, err, "the array's end")
	}
	drain(resp.Body)
	return page, nil
}

// pageError says why a page did not decode: over its limit, or malformed.
func pageError(lr *io.LimitedReader, err error, what string) error {
	if lr.N <= 0 {
		return fmt.Errorf("%w: over the limit of a page", ErrPageTooLarge)
	}
	return fmt.Errorf("%w: %s: %w", ErrBadResponse, what, err)
}
