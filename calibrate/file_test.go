package calibrate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// goodFile is a calibration file as Fit and the calibrate command write it.
func goodFile(t *testing.T, method string) map[string]any {
	t.Helper()
	post, labels := synthetic(400, 10, 1.5, 1, 7)
	c, err := Fit(post, labels, Options{Method: method, Alpha: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c.ModelSHA256 = strings.Repeat("ab", 32)
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func parse(t *testing.T, m map[string]any) (*Calibration, error) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(data)
}

func TestAFittedFileReadsBack(t *testing.T) {
	for _, method := range []string{LAC, APS, RAPS} {
		c, err := parse(t, goodFile(t, method))
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if err := c.ForModel(strings.Repeat("ab", 32), 10); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
}

func TestBadFilesAreRefusedNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		name, method, field string
		edit                func(map[string]any)
	}{
		{"alpha 5", APS, "alpha", func(m map[string]any) { m["alpha"] = 5 }},
		{"alpha 0", APS, "alpha", func(m map[string]any) { m["alpha"] = 0 }},
		{"no alpha", APS, "alpha", func(m map[string]any) { delete(m, "alpha") }},
		{"threshold -1", APS, "threshold", func(m map[string]any) { m["threshold"] = -1 }},
		{"no threshold", APS, "threshold", func(m map[string]any) { delete(m, "threshold") }},
		{"threshold null", APS, "threshold", func(m map[string]any) { m["threshold"] = nil }},
		{"an APS threshold above any score", APS, "threshold", func(m map[string]any) { m["threshold"] = 1.5 }},
		{"a LAC threshold above any score", LAC, "threshold", func(m map[string]any) { m["threshold"] = 2 }},
		{"a RAPS threshold above any score", RAPS, "threshold", func(m map[string]any) { m["threshold"] = 1e9 }},
		{"temperature 5e-324", APS, "temperature", func(m map[string]any) { m["temperature"] = 5e-324 }},
		{"temperature 1e300", APS, "temperature", func(m map[string]any) { m["temperature"] = 1e300 }},
		{"temperature 0", APS, "temperature", func(m map[string]any) { m["temperature"] = 0 }},
		{"no temperature", APS, "temperature", func(m map[string]any) { delete(m, "temperature") }},
		{"RAPS lambda -1e300", RAPS, "lambda", func(m map[string]any) { m["lambda"] = -1e300 }},
		{"RAPS without lambda", RAPS, "lambda", func(m map[string]any) { delete(m, "lambda") }},
		{"RAPS k_reg past K", RAPS, "k_reg", func(m map[string]any) { m["k_reg"] = 11 }},
		{"RAPS k_reg negative", RAPS, "k_reg", func(m map[string]any) { m["k_reg"] = -1 }},
		{"APS with a lambda", APS, "lambda", func(m map[string]any) { m["lambda"] = 0.5 }},
		{"an unknown method", APS, "method", func(m map[string]any) { m["method"] = "thr" }},
		{"no method", APS, "method", func(m map[string]any) { delete(m, "method") }},
		{"no model", APS, "model_sha256", func(m map[string]any) { delete(m, "model_sha256") }},
		{"a model that is not a sha256", APS, "model_sha256", func(m map[string]any) { m["model_sha256"] = "abc" }},
		{"no classes", APS, "classes", func(m map[string]any) { delete(m, "classes") }},
		{"one class", APS, "classes", func(m map[string]any) { m["classes"] = 1 }},
		{"no sets", APS, "sets", func(m map[string]any) { delete(m, "sets") }},
		{"unknown sets", APS, "sets", func(m map[string]any) { m["sets"] = "conformal" }},
		{"a newer format", APS, "format_version", func(m map[string]any) { m["format_version"] = "9" }},
		{"an unknown field", APS, "temp", func(m map[string]any) { m["temp"] = 2 }},
		{"a string for a number", APS, "alpha", func(m map[string]any) { m["alpha"] = "0.1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := goodFile(t, tc.method)
			tc.edit(m)
			_, err := parse(t, m)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err %v; want a FieldError naming %s", err, tc.field)
			}
		})
	}
}

func TestAFileIsForOneModel(t *testing.T) {
	c, err := parse(t, goodFile(t, RAPS))
	if err != nil {
		t.Fatal(err)
	}
	var fe *FieldError
	if err := c.ForModel(strings.Repeat("cd", 32), 10); !errors.As(err, &fe) || fe.Field != "model_sha256" {
		t.Fatalf("another model: %v", err)
	}
	if err := c.ForModel(strings.Repeat("ab", 32), 12); !errors.As(err, &fe) || fe.Field != "classes" {
		t.Fatalf("another K: %v", err)
	}
}

// A version 1 file (before classes and sets were written) still reads, as
// randomised sets for its model.
func TestAVersion1FileStillReads(t *testing.T) {
	m := goodFile(t, APS)
	m["format_version"] = "1"
	delete(m, "classes")
	delete(m, "sets")
	delete(m, "by")
	c, err := parse(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if !c.randomized() || c.ForModel(strings.Repeat("ab", 32), 10) != nil {
		t.Fatalf("version 1: %+v", c)
	}
	m["sets"] = NonRandomized
	if _, err := parse(t, m); err == nil {
		t.Fatal("a version 1 file with non-randomised sets was accepted")
	}
}

func TestFitRefusesTooFewImagesForAlpha(t *testing.T) {
	post, labels := synthetic(40, 10, 1.5, 1, 3) // 20 to calibrate: ⌈21·0.99⌉ = 21 > 20
	if _, err := Fit(post, labels, Options{Alpha: 0.01}); err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Fatalf("err %v; want one saying alpha 0.01 needs more images", err)
	}
	if _, err := Fit(post, labels, Options{Method: RAPS, Alpha: 0.1, Lambda: -1}); err == nil || !strings.Contains(err.Error(), "lambda") {
		t.Fatalf("lambda -1: %v", err)
	}
}

// goodFileBy is goodFile fitted by class or by study.
func goodFileBy(t *testing.T, by string) map[string]any {
	t.Helper()
	post, labels := synthetic(400, 4, 1.5, 1, 7)
	c, err := Fit(post, labels, Options{Alpha: 0.2, Seed: 1, By: by})
	if err != nil {
		t.Fatal(err)
	}
	c.ModelSHA256 = strings.Repeat("ab", 32)
	data, _ := json.Marshal(c)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFormat3FieldsAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name, by, field string
		edit            func(map[string]any)
	}{
		{"no by", ByImage, "by", func(m map[string]any) { delete(m, "by") }},
		{"an unknown by", ByImage, "by", func(m map[string]any) { m["by"] = "site" }},
		{"class thresholds by image", ByImage, "class_thresholds", func(m map[string]any) { m["class_thresholds"] = []float64{0.5, 0.5, 0.5, 0.5} }},
		{"a threshold short by class", ByClass, "class_thresholds", func(m map[string]any) { m["class_thresholds"] = []float64{0.5, 0.5, 0.5} }},
		{"a negative class threshold", ByClass, "class_thresholds", func(m map[string]any) { m["class_thresholds"] = []float64{0.5, -1, 0.5, 0.5} }},
		{"no class thresholds by class", ByClass, "class_thresholds", func(m map[string]any) { delete(m, "class_thresholds") }},
		{"a study rule by image", ByImage, "study_rule", func(m map[string]any) { m["study_rule"] = "max" }},
		{"no study rule by study", ByStudy, "study_rule", func(m map[string]any) { delete(m, "study_rule") }},
		{"an unknown study rule", ByStudy, "study_rule", func(m map[string]any) { m["study_rule"] = "vote" }},
		{"by in a version 2 file", ByImage, "by", func(m map[string]any) { m["format_version"] = "2" }},
		{"non-empty sets in a version 2 file", ByImage, "sets", func(m map[string]any) {
			m["format_version"], m["sets"] = "2", RandomizedNonEmpty
			delete(m, "by")
		}},
		{"an unknown stratum rule", ByImage, "stratum.rule", func(m map[string]any) { m["stratum"] = map[string]any{"rule": "coin", "job": "j"} }},
		{"a set-size stratum without its base", ByImage, "stratum.base", func(m map[string]any) { m["stratum"] = map[string]any{"rule": RuleSetSize, "job": "j"} }},
		{"an entropy stratum past 1", ByImage, "stratum.entropy_threshold", func(m map[string]any) {
			m["stratum"] = map[string]any{"rule": RuleEntropy, "entropy_threshold": 2, "job": "j"}
		}},
		{"a stratum by study", ByStudy, "stratum", func(m map[string]any) {
			m["stratum"] = map[string]any{"rule": RuleEntropy, "entropy_threshold": 0.5, "job": "j"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := goodFileBy(t, tc.by)
			tc.edit(m)
			_, err := parse(t, m)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err %v; want a FieldError naming %s", err, tc.field)
			}
		})
	}
}

// A version 2 file still reads, as sets by image; a study calibration makes
// sets for studies only.
func TestOlderFilesAndStudyCalibrationsReadForTheirUse(t *testing.T) {
	m := goodFile(t, APS)
	m["format_version"] = "2"
	delete(m, "by")
	c, err := parse(t, m)
	if err != nil || c.By != "" || c.ForModel(strings.Repeat("ab", 32), 10) != nil {
		t.Fatalf("version 2: %v", err)
	}
	s, err := parse(t, goodFileBy(t, ByStudy))
	if err != nil {
		t.Fatal(err)
	}
	var fe *FieldError
	if err := s.ForModel(strings.Repeat("ab", 32), 4); !errors.As(err, &fe) || fe.Field != "by" {
		t.Fatalf("a study calibration for images: %v", err)
	}
	if err := s.ForStudies(strings.Repeat("ab", 32), 4); err != nil {
		t.Fatal(err)
	}
	if err := c.ForStudies(strings.Repeat("ab", 32), 10); err == nil {
		t.Fatal("an image calibration was taken for studies")
	}
}
