package dicomweb_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/jobs"
)

func TestParseURLSendsEachFilterToItsLevelAndReadsTheOptions(t *testing.T) {
	cfg, s, err := dicomweb.ParseURL("dicomweb+https://pacs.example.org:8443/dicom-web?Modality=CT&StudyDate=20240101-20240131" +
		"&StudyInstanceUID=1.2,1.3&SeriesDescription=*AX*&00080016=1.2.840.10008.5.1.4.1.1.2&BodyPartExamined=CHEST" +
		"&inflight=2&rate=10&page=50&window=20:00-06:00&tz=UTC&timeout=30s&retries=0&transfer_syntax=1.2.840.10008.1.2.1")
	if err != nil {
		t.Fatal(err)
	}
	want := dicomweb.Search{
		Studies:   url.Values{"StudyDate": {"20240101-20240131"}, "StudyInstanceUID": {"1.2,1.3"}, "ModalitiesInStudy": {"CT"}},
		Series:    url.Values{"Modality": {"CT"}, "SeriesDescription": {"*AX*"}, "BodyPartExamined": {"CHEST"}},
		Instances: url.Values{"00080016": {"1.2.840.10008.5.1.4.1.1.2"}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("search %+v\nwant %+v", s, want)
	}
	if cfg.Base != "https://pacs.example.org:8443/dicom-web" || cfg.InFlight != 2 || cfg.Rate != 10 || cfg.PageSize != 50 ||
		cfg.Timeout != 30*time.Second || cfg.Retries >= 0 || len(cfg.TransferSyntaxes) != 1 {
		t.Fatalf("config %+v", cfg)
	}
	night := time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC)
	if !cfg.Window.Contains(night) || cfg.Window.Contains(night.Add(12*time.Hour)) {
		t.Fatalf("window %s", cfg.Window)
	}
}

func TestParseURLRefusesWhatItCannotHonour(t *testing.T) {
	for _, u := range []string{
		"dicomweb+ftp://pacs/dicom-web", "https://pacs/dicom-web", "dicomweb+http://pacs/dicom-web?limit=10",
		"dicomweb+http://pacs/dicom-web?inflight=0", "dicomweb+http://pacs/dicom-web?window=nightly",
		"dicomweb+http://pacs/dicom-web?modality=CT", "dicomweb+http://pacs/dicom-web?tz=Mars/Olympus",
		"dicomweb+http://pacs/dicom-web?transfer_syntax=jpeg",
	} {
		if _, _, err := dicomweb.ParseURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}

func TestSeriesRulesAreCheckedBeforeTheyRun(t *testing.T) {
	for _, r := range []dicomweb.SeriesRule{
		{}, {Modality: []string{"ct"}}, {SeriesDescription: "(unclosed"}, {MinInstances: -1},
		{BodyPartExamined: []string{""}}, {ImageType: []string{"A VALUE LONGER THAN 16"}},
	} {
		if err := dicomweb.ValidateRules([]dicomweb.SeriesRule{r}); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	if err := dicomweb.ValidateRules([]dicomweb.SeriesRule{{Modality: []string{"CT"}, MinInstances: 20}}); err != nil {
		t.Fatal(err)
	}
}

func TestAJobSpecTakesSeriesRulesForADICOMwebInputOnly(t *testing.T) {
	validate := func(input string, rules []dicomweb.SeriesRule) error {
		s := jobs.Spec{ID: "night", InputURL: input, OutputURL: "file:///results", SeriesRules: rules}
		s.Defaults()
		return s.Validate()
	}
	ct := []dicomweb.SeriesRule{{Modality: []string{"CT"}, SeriesDescription: "(?i)ax", MinInstances: 20}}
	if err := validate("dicomweb+https://pacs.example.org/dicom-web", ct); err != nil {
		t.Fatal(err)
	}
	for input, rules := range map[string][]dicomweb.SeriesRule{
		"file:///archive": ct,
		"dicomweb+https://pacs.example.org/dicom-web": {{SeriesDescription: "(unclosed"}},
	} {
		if err := validate(input, rules); err == nil || !strings.Contains(err.Error(), "series_rules") {
			t.Errorf("%s %+v: %v", input, rules, err)
		}
	}
	var back jobs.Spec
	data, _ := json.Marshal(jobs.Spec{SeriesRules: ct})
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back.SeriesRules, ct) {
		t.Fatalf("spec.json %s read back as %+v, %v", data, back.SeriesRules, err)
	}
}
