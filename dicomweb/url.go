package dicomweb

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Search is what a Source lists: QIDO-RS matching keys for each level of
// the hierarchy (studies, then their series, then their instances).
type Search struct {
	Studies, Series, Instances url.Values
}

// levels places attributes a filter may name (keyword and tag) at the
// study or instance level; any other attribute is matched on series.
var levels = map[string]struct{ tag, level string }{
	"StudyInstanceUID": {"0020000D", "study"}, "StudyDate": {"00080020", "study"}, "StudyTime": {"00080030", "study"},
	"AccessionNumber": {"00080050", "study"}, "ModalitiesInStudy": {"00080061", "study"},
	"ReferringPhysicianName": {"00080090", "study"}, "StudyDescription": {"00081030", "study"},
	"PatientName": {"00100010", "study"}, "PatientID": {"00100020", "study"}, "IssuerOfPatientID": {"00100021", "study"},
	"PatientBirthDate": {"00100030", "study"}, "PatientSex": {"00100040", "study"}, "StudyID": {"00200010", "study"},
	"SOPClassUID": {"00080016", "instance"}, "SOPInstanceUID": {"00080018", "instance"},
	"InstanceNumber": {"00200013", "instance"}, "ImageType": {"00080008", "instance"},
	"ContentDate": {"00080023", "instance"}, "NumberOfFrames": {"00280008", "instance"},
}

var (
	keywordRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	tagRE     = regexp.MustCompile(`^[0-9A-Fa-f]{8}$`)
	uidRE     = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
)

// level says where attribute (a keyword or a tag) is matched.
func level(attr string) string {
	if l, ok := levels[attr]; ok {
		return l.level
	}
	for _, l := range levels {
		if strings.EqualFold(l.tag, attr) {
			return l.level
		}
	}
	return "series"
}

// ParseURL reads a source URL:
//
//	dicomweb+http(s)://host[:port]/path?ATTRIBUTE=VALUE&…&option=value&…
//
// The URL without its scheme's "dicomweb+" and without the query is the
// service root. Query keys that start with an upper-case letter (DICOM
// keywords: Modality, StudyDate, StudyInstanceUID, SeriesDescription) or
// are 8 hex digits (tags) are QIDO-RS matching keys, each sent to the
// level it belongs to (study attributes to the study search, SOP and image
// attributes to the instance search, any other to the series search);
// Modality also prunes the study search by ModalitiesInStudy. Lower-case
// keys are the Client's options: inflight, rate, burst, window, tz,
// timeout, retries, backoff, max_backoff, page, transfer_syntax.
func ParseURL(raw string) (Config, Search, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, Search{}, fmt.Errorf("dicomweb URL: %w", err)
	}
	scheme, ok := strings.CutPrefix(u.Scheme, "dicomweb+")
	if !ok || scheme != "http" && scheme != "https" {
		return Config{}, Search{}, fmt.Errorf("dicomweb URL: scheme %q, want dicomweb+http or dicomweb+https", u.Scheme)
	}
	if u.User != nil {
		return Config{}, Search{}, fmt.Errorf("dicomweb URL: credentials in the URL would be stored with the job; " +
			"set DIDICM_DICOMWEB_USERNAME/PASSWORD or _TOKEN (or dicomweb.* in the config) instead")
	}
	q := u.Query()
	base := url.URL{Scheme: scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	cfg := Config{Base: base.String()}
	s := Search{Studies: url.Values{}, Series: url.Values{}, Instances: url.Values{}}
	for key, vals := range q {
		if keywordRE.MatchString(key) || tagRE.MatchString(key) {
			s.add(key, strings.Join(vals, ","))
			continue
		}
		if err := cfg.option(key, vals[len(vals)-1], q.Get("tz")); err != nil {
			return Config{}, Search{}, fmt.Errorf("dicomweb URL: %w", err)
		}
	}
	return cfg, s, nil
}

// add puts a matching key at its level.
func (s *Search) add(attr, value string) {
	switch level(attr) {
	case "study":
		s.Studies.Set(attr, value)
	case "instance":
		s.Instances.Set(attr, value)
	default:
		s.Series.Set(attr, value)
		if attr == "Modality" || strings.EqualFold(attr, TagModality) {
			if _, set := s.Studies["ModalitiesInStudy"]; !set {
				s.Studies.Set("ModalitiesInStudy", value)
			}
		}
	}
}

// option sets one lower-case URL option.
func (c *Config) option(key, v, tz string) error {
	bad := func(want string) error { return fmt.Errorf("option %s=%q: want %s", key, v, want) }
	posInt := func(dst *int) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return bad("a positive integer")
		}
		*dst = n
		return nil
	}
	dur := func(dst *time.Duration) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return bad("a positive duration like 30s")
		}
		*dst = d
		return nil
	}
	switch key {
	case "inflight":
		return posInt(&c.InFlight)
	case "burst":
		return posInt(&c.Burst)
	case "page":
		return posInt(&c.PageSize)
	case "rate":
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 {
			return bad("requests per second (0: no limit)")
		}
		c.Rate = r
		if r == 0 {
			c.Rate = -1
		}
	case "retries":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return bad("0 or more")
		}
		c.Retries = n
		if n == 0 {
			c.Retries = -1
		}
	case "timeout":
		return dur(&c.Timeout)
	case "backoff":
		return dur(&c.Backoff)
	case "max_backoff":
		return dur(&c.MaxBackoff)
	case "window":
		loc, err := location(tz)
		if err != nil {
			return err
		}
		c.Window, err = ParseWindow(v, loc)
		return err
	case "tz":
		_, err := location(v)
		return err
	case "transfer_syntax":
		c.TransferSyntaxes = strings.Split(v, ",")
		for _, ts := range c.TransferSyntaxes {
			if ts != "*" && !uidRE.MatchString(ts) {
				return bad("transfer syntax UIDs separated by commas")
			}
		}
	case "limit", "offset", "includefield":
		return fmt.Errorf("option %s: the source pages and asks for its fields itself (page= sets the page size)", key)
	default:
		return fmt.Errorf("unknown option %q (DICOM attributes are keywords such as Modality, or tags such as 00080060)", key)
	}
	return nil
}

func location(tz string) (*time.Location, error) {
	if tz == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("option tz=%q: %w", tz, err)
	}
	return loc, nil
}
