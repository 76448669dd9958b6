package dicomweb

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/didicm/didicm/source"
	"github.com/didicm/didicm/storage"
)

func init() {
	open := func(ctx context.Context, url string) (source.Source, error) {
		s, err := Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	source.Register("dicomweb+http", open)
	source.Register("dicomweb+https", open)
}

// Source lists a DICOMweb service's instances (QIDO-RS) and reads them
// (WADO-RS): the input of a job whose input_url is a dicomweb+http(s) URL.
// Its keys are Key strings.
type Source struct {
	client *Client
	search Search
	rules  []rule
}

var _ source.Source = (*Source)(nil)

// Open opens a source URL (see ParseURL) with the process's credentials.
func Open(_ context.Context, rawURL string) (*Source, error) {
	cfg, search, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return New(c, search), nil
}

// New is a source listing search through c.
func New(c *Client, search Search) *Source {
	return &Source{client: c, search: search}
}

// Client is the source's client, to send other requests within the same
// bounds on load.
func (s *Source) Client() *Client { return s.client }

// SelectSeries makes Walk list only the series that rules select (see
// SeriesRule); nil lists every series the search matches.
func (s *Source) SelectSeries(rules []SeriesRule) error {
	compiled := make([]rule, 0, len(rules))
	for i, r := range rules {
		cr, err := r.compile()
		if err != nil {
			return fmt.Errorf("series_rules[%d]: %w", i, err)
		}
		compiled = append(compiled, cr)
	}
	s.rules = compiled
	return nil
}

// Read returns the instance key names (WADO-RS). A key that is not a Key
// cannot name an instance: storage.ErrNotFound, as for a deleted one.
func (s *Source) Read(ctx context.Context, key string, max int64) ([]byte, error) {
	k, err := ParseKey(key)
	if err != nil {
		return nil, fmt.Errorf("read %w: %w", err, storage.ErrNotFound)
	}
	return s.client.RetrieveInstance(ctx, k, max)
}

// Close releases the client's idle connections.
func (s *Source) Close() error {
	s.client.Close()
	return nil
}

// Walk lists every instance of the search (and the series rules) under
// prefix as a Key string, study by study and series by series, each once,
// while the listing streams in; Object.Size is 0 (QIDO-RS does not say).
// prefix is "" (everything), "studies/UID/" or "studies/UID/series/UID/";
// f's patterns match the key after prefix. A series whose listing comes
// back shorter than the service's own count fails the walk
// (ErrIncomplete): a manifest never silently misses instances.
func (s *Source) Walk(ctx context.Context, prefix string, f storage.Filter, fn func(storage.Object) error) error {
	sc, err := parseScope(prefix)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	w := &walker{s: s, prefix: prefix, filter: f, fn: fn}
	return w.studies(ctx, sc)
}

// scope is what a Walk prefix narrows the listing to.
type scope struct{ study, series string }

func parseScope(prefix string) (scope, error) {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return scope{}, nil
	}
	parts := strings.Split(p, "/")
	ok := (len(parts) == 2 || len(parts) == 4 && parts[2] == "series") && parts[0] == "studies"
	for i := 1; ok && i < len(parts); i += 2 {
		ok = checkUID(parts[i]) == nil
	}
	if !ok {
		return scope{}, fmt.Errorf("dicomweb input prefix %q: want empty, studies/UID/ or studies/UID/series/UID/", prefix)
	}
	sc := scope{study: parts[1]}
	if len(parts) == 4 {
		sc.series = parts[3]
	}
	return sc, nil
}

// walker is one Walk.
type walker struct {
	s      *Source
	prefix string
	filter storage.Filter
	fn     func(storage.Object) error
}

func (w *walker) studies(ctx context.Context, sc scope) error {
	q := Query{Match: clone(w.s.search.Studies), IncludeFields: []string{TagStudySeries}}
	if sc.study != "" {
		if list := uidList(q.Match, "StudyInstanceUID", TagStudyUID); list != nil && !contains(list, sc.study) {
			return nil // the prefix's study is not in the search
		}
		q.Match.Set("StudyInstanceUID", sc.study)
	}
	return w.s.client.SearchStudies(ctx, q, func(m Match) error {
		n, _ := m.Int(TagStudySeries)
		return w.series(ctx, m.String(TagStudyUID), n, sc.series)
	})
}

func (w *walker) series(ctx context.Context, study string, count int, only string) error {
	q := Query{Match: clone(w.s.search.Series),
		IncludeFields: []string{TagModality, TagSeriesDescription, TagBodyPartExamined, TagSeriesInstances}}
	if len(q.Match) == 0 && only == "" {
		q.Expect = count
	}
	if only != "" {
		q.Match.Set("SeriesInstanceUID", only)
	}
	return w.s.client.SearchSeries(ctx, study, q, func(m Match) error {
		return w.instances(ctx, study, m)
	})
}

// instances lists a series that the rules select (every series without
// rules) and hands its selected instances to fn.
func (w *walker) instances(ctx context.Context, study string, series Match) error {
	var rules []rule
	imageType := false
	for _, r := range w.s.rules {
		if r.series(series) {
			rules = append(rules, r)
			imageType = imageType || len(r.ImageType) > 0
		}
	}
	if len(w.s.rules) > 0 && len(rules) == 0 {
		return nil
	}
	q := Query{Match: clone(w.s.search.Instances)}
	if imageType {
		q.IncludeFields = []string{TagImageType}
	}
	if n, ok := series.Int(TagSeriesInstances); ok && len(q.Match) == 0 {
		q.Expect = n
	}
	uid := series.String(TagSeriesUID)
	var all []Match
	err := w.s.client.SearchInstances(ctx, study, uid, q, func(m Match) error {
		all = append(all, m)
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range selectInstances(all, rules, len(w.s.rules) > 0) {
		key := Key{Study: study, Series: uid, Instance: m.String(TagSOPInstanceUID)}.String()
		if !matches(w.filter, strings.TrimPrefix(key, w.prefix)) {
			continue
		}
		if err := w.fn(storage.Object{Key: key}); err != nil {
			return err
		}
	}
	return nil
}

// selectInstances keeps, in listing order, the instances that pass a rule
// (its ImageType) whose MinInstances the series meets; all without rules.
func selectInstances(all []Match, rules []rule, ruled bool) []Match {
	if !ruled {
		return all
	}
	keep := make([]bool, len(all))
	for _, r := range rules {
		var pass []int
		for i, m := range all {
			if r.instance(m) {
				pass = append(pass, i)
			}
		}
		if len(pass) >= max(r.MinInstances, 1) {
			for _, i := range pass {
				keep[i] = true
			}
		}
	}
	var out []Match
	for i, m := range all {
		if keep[i] {
			out = append(out, m)
		}
	}
	return out
}

// matches applies a Filter as storage does: doublestar patterns on the
// key after the prefix, Include (empty: all) then Exclude.
func matches(f storage.Filter, rel string) bool {
	ok := len(f.Include) == 0
	for _, p := range f.Include {
		if m, _ := doublestar.Match(p, rel); m {
			ok = true
			break
		}
	}
	for _, p := range f.Exclude {
		if m, _ := doublestar.Match(p, rel); m {
			return false
		}
	}
	return ok
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

// uidList is the UID list a search matches on (keyword or tag), or nil.
func uidList(v url.Values, keyword, tag string) []string {
	for k, vals := range v {
		if k == keyword || strings.EqualFold(k, tag) {
			delete(v, k)
			return strings.Split(strings.Join(vals, ","), ",")
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}
