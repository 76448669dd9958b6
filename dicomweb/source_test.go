package dicomweb_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/source"
	"github.com/didicm/didicm/storage"
)

// open opens a source URL the way the producer and workers do.
func open(t testing.TB, u string) source.Source {
	t.Helper()
	s, err := source.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// walk lists a source and fails the test on an error or a key seen twice.
func walk(t testing.TB, s source.Source, prefix string, f storage.Filter) []string {
	t.Helper()
	keys, err := tryWalk(s, prefix, f)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func tryWalk(s source.Source, prefix string, f storage.Filter) ([]string, error) {
	var keys []string
	err := s.Walk(context.Background(), prefix, f, func(o storage.Object) error {
		if slices.Contains(keys, o.Key) {
			return errors.New("listed twice: " + o.Key)
		}
		keys = append(keys, o.Key)
		return nil
	})
	slices.Sort(keys)
	return keys, err
}

func sameKeys(t testing.TB, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

func TestWalkListsEveryInstanceExactlyOnceWhateverThePageSize(t *testing.T) {
	all := corpusKeys(func(entry) bool { return true })
	if len(all) != 21 {
		t.Fatalf("corpus of %d instances, want 21", len(all))
	}
	for _, page := range []string{"1", "2", "200"} {
		t.Run("page "+page, func(t *testing.T) {
			sameKeys(t, walk(t, open(t, sourceURL(pacs.DICOMweb(), "page="+page)), "", storage.Filter{}), all)
		})
	}
}

func TestWalkSendsTheURLsFiltersToTheirLevels(t *testing.T) {
	ct, mr, cr := corpusEntry(t, "chest-ct-axial-1-explicit"), corpusEntry(t, "head-mr-t1-1-explicit"),
		corpusEntry(t, "chest-cr-pa-1-explicit")
	scout := corpusEntry(t, "chest-ct-scout-1-explicit")
	cases := []struct {
		name, query, prefix string
		want                func(entry) bool
	}{
		{"modality CT lists the CT series", "Modality=CT", "", func(e entry) bool { return e.Modality == "CT" }},
		{"a study date range lists January's studies", "StudyDate=20240101-20240131", "",
			func(e entry) bool { return e.Study == ct.Study || e.Study == mr.Study }},
		{"a study UID list lists those studies", "StudyInstanceUID=" + ct.Study + "," + cr.Study, "",
			func(e entry) bool { return e.Study == ct.Study || e.Study == cr.Study }},
		{"a series description pattern", "SeriesDescription=" + url.QueryEscape("*AX*"), "",
			func(e entry) bool { return e.Series == ct.Series || e.Series == mr.Series }},
		{"a tag instead of a keyword, with another level's filter", "00080060=MR&SeriesDescription=T2*", "",
			func(e entry) bool { return strings.Contains(e.File, "head-mr-t2") }},
		{"an instance attribute", "SOPInstanceUID=" + scout.SOP, "", func(e entry) bool { return e.SOP == scout.SOP }},
		{"a study prefix", "page=2", "studies/" + ct.Study + "/", func(e entry) bool { return e.Study == ct.Study }},
		{"a series prefix", "", "studies/" + ct.Study + "/series/" + scout.Series + "/",
			func(e entry) bool { return e.Series == scout.Series }},
		{"a study prefix outside the study list lists nothing", "StudyInstanceUID=" + mr.Study,
			"studies/" + ct.Study + "/", func(entry) bool { return false }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := walk(t, open(t, sourceURL(pacs.DICOMweb(), c.query)), c.prefix, storage.Filter{})
			sameKeys(t, got, corpusKeys(c.want))
		})
	}
}

func TestWalkAppliesIncludeAndExcludeToTheKeyAfterThePrefix(t *testing.T) {
	ct, scout := corpusEntry(t, "chest-ct-axial-1-explicit"), corpusEntry(t, "chest-ct-scout-1-explicit")
	s := open(t, sourceURL(pacs.DICOMweb(), ""))
	got := walk(t, s, "studies/"+ct.Study+"/", storage.Filter{Exclude: []string{"series/" + scout.Series + "/**"}})
	sameKeys(t, got, corpusKeys(func(e entry) bool { return e.Series == ct.Series }))
}

func TestWalkRefusesAPrefixThatIsNoStudyOrSeries(t *testing.T) {
	s := open(t, sourceURL(pacs.DICOMweb(), ""))
	for _, p := range []string{"scans/", "studies/1.2/instances/", "studies/../", "studies/1.2/series/"} {
		if _, err := tryWalk(s, p, storage.Filter{}); err == nil {
			t.Errorf("prefix %q listed", p)
		}
	}
}

func TestSeriesRulesSelectSeriesAndInstances(t *testing.T) {
	file := func(parts ...string) func(entry) bool {
		return func(e entry) bool {
			for _, p := range parts {
				if strings.Contains(e.File, p) {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		name  string
		rules []dicomweb.SeriesRule
		want  func(entry) bool
	}{
		{"CT with AXIAL in its image type", []dicomweb.SeriesRule{{Modality: []string{"CT"}, ImageType: []string{"axial"}}},
			file("chest-ct-axial")},
		{"a body part", []dicomweb.SeriesRule{{BodyPartExamined: []string{"head"}}}, file("head-mr")},
		{"a description regex", []dicomweb.SeriesRule{{SeriesDescription: "(?i)^chest"}}, file("chest-cr-pa", "chest-cr-lat")},
		{"at least three instances", []dicomweb.SeriesRule{{MinInstances: 3}}, file("chest-ct-axial", "head-mr-t1", "chest-cr-pa")},
		{"original primary images in series of two or more",
			[]dicomweb.SeriesRule{{ImageType: []string{"ORIGINAL", "PRIMARY"}, MinInstances: 2}},
			func(e entry) bool { // dcmcjpeg marks what it compresses lossily DERIVED
				return file("chest-ct-axial", "head-mr-t1", "head-mr-t2")(e) && !strings.Contains(e.File, "baseline")
			}},
		{"either of two rules", []dicomweb.SeriesRule{{Modality: []string{"OT"}}, {Modality: []string{"MR"}, SeriesDescription: "T2"}},
			file("chest-cr-capture", "head-mr-t2")},
		{"a rule nothing meets", []dicomweb.SeriesRule{{Modality: []string{"US"}}}, file("none")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := dicomweb.Open(context.Background(), sourceURL(pacs.DICOMweb(), "page=2"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.SelectSeries(c.rules); err != nil {
				t.Fatal(err)
			}
			sameKeys(t, walk(t, s, "", storage.Filter{}), corpusKeys(c.want))
		})
	}
}

func TestReadReturnsEachInstanceAsStoredInEverySyntax(t *testing.T) {
	s := open(t, sourceURL(pacs.DICOMweb(), ""))
	syntaxes := map[string]bool{}
	for _, e := range loadCorpus() {
		got, err := s.Read(context.Background(), e.key(), 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", e.File, err)
		}
		if !bytes.Equal(got, e.data) {
			t.Fatalf("%s: read %d bytes that differ from the %d uploaded", e.File, len(got), len(e.data))
		}
		syntaxes[e.TransferSyntax] = true
	}
	if len(syntaxes) < 9 {
		t.Fatalf("only %d transfer syntaxes read", len(syntaxes))
	}
}

func TestReadOfAMissingOrMalformedKeyIsNotFound(t *testing.T) {
	s := open(t, sourceURL(pacs.DICOMweb(), ""))
	e := corpusEntry(t, "chest-ct-scout-1-explicit")
	for _, key := range []string{
		dicomweb.Key{Study: e.Study, Series: e.Series, Instance: "1.2.3.4"}.String(),
		"studies/1.2/series/1.3/instances/1.4",
		"scans/ct-001.dcm",
		"studies/1.2/series/../instances/1.4",
	} {
		if _, err := s.Read(context.Background(), key, 0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: %v, want not found", key, err)
		}
	}
}

func TestReadOverTheLimitIsTooLarge(t *testing.T) {
	s := open(t, sourceURL(pacs.DICOMweb(), ""))
	e := corpusEntry(t, "head-mr-t2-1-explicit")
	_, err := s.Read(context.Background(), e.key(), int64(len(e.data)-1))
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("read with a limit 1 byte short: %v", err)
	}
	if got, err := s.Read(context.Background(), e.key(), int64(len(e.data))); err != nil || len(got) != len(e.data) {
		t.Fatalf("read with a limit of exactly its size: %d bytes, %v", len(got), err)
	}
}

func TestAListingCutShortByOrthancsFindLimitFailsInsteadOfMissingInstances(t *testing.T) {
	// Orthanc 1.10 stops its searches at LimitFindInstances before it
	// applies the offset: no page reaches past the cap.
	o := orthanctest.Start(t, orthanctest.Options{Settings: map[string]any{"LimitFindInstances": 2}})
	for _, e := range loadCorpus() {
		if strings.Contains(e.File, "chest-ct") {
			if err := o.Upload(context.Background(), e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := tryWalk(open(t, sourceURL(o.DICOMweb(), "page=2")), "", storage.Filter{})
	if !errors.Is(err, dicomweb.ErrIncomplete) {
		t.Fatalf("walk: %v", err)
	}
	t.Log(err)
}
