package modelmeta

import (
	"errors"
	"strings"
	"testing"
)

func valid() map[string]string {
	m := map[string]string{"format_version": "1", "kind": "score", "layout": "small", "num_classes": "3",
		"class_names": `["a","b","c"]`, "input_channels": "1", "input_height": "28", "input_width": "28",
		"color_mode": "gray", "norm_mean": "[0.5]", "norm_std": "[0.25]", "schedule": "loglinear",
		"schedule_eps": "0.001", "degradation": `{"kind":"lowres","resolution":7}`, "data_fraction": "0.05", "training": "{}"}
	out := map[string]string{}
	for k, v := range m {
		out[Prefix+k] = v
	}
	return out
}

func TestParseValidMetadata(t *testing.T) {
	m, err := Parse(valid())
	if err != nil {
		t.Fatal(err)
	}
	if m.NumClasses() != 3 || m.InputSize() != 784 || m.Degradation.Resolution != 7 || m.Std[0] != 0.25 {
		t.Fatalf("%+v", m)
	}
}

func TestParseNamesTheWrongKey(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"num_classes", "ten", "didicm.num_classes = \"ten\": not an integer"},
		{"class_names", `["a"]`, "1 names for num_classes 3"},
		{"input_channels", "2", "want 1 or 3"},
		{"color_mode", "rgb", "does not match input_channels"},
		{"norm_std", "[0]", "positive"},
		{"kind", "regressor", `want "score" or "classifier"`},
		{"schedule", "cosine", "loglinear"},
		{"recommended_steps", "-1", "want 0 (none) to 1000"},
		{"min_steps", "x", "not an integer"},
		{"intensity", `{"kind":"window","center":40,"width":0}`, "window width"},
		{"schedule_eps", "0.01", "the sampler's ε is 0.001"},
		{"degradation", `{"kind":"blur"}`, "lowres"},
		{"norm_mean", "0.5", "not valid JSON"},
		{"format_version", "2", "reads version 1"},
		{"class_names", `["a","","c"]`, "class 1 has no name"},
		{"class_names", `["a"," ","c"]`, "class 1 has no name"},
		{"class_names", `["a","b","a"]`, `classes 0 and 2 are both named "a"`},
		{"norm_mean", `[1e999]`, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.value, func(t *testing.T) {
			p := valid()
			p[Prefix+tt.key] = tt.value
			_, err := Parse(p)
			var me *Error
			if !errors.As(err, &me) || me.Key != tt.key || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v; want one naming %s with %q", err, tt.key, tt.want)
			}
		})
	}
	p := valid()
	delete(p, Prefix+"input_width")
	if _, err := Parse(p); err == nil || !strings.Contains(err.Error(), "didicm.input_width: missing") {
		t.Fatalf("missing key: %v", err)
	}
}

// TestAModelNotTrainedOnDICOMReadsItAsAPNG: without didicm.intensity (the
// toolkit writes it only for models trained on DICOM, or given one) a model
// reads grey DICOM with bits; a declared transform is kept.
func TestAModelNotTrainedOnDICOMReadsItAsAPNG(t *testing.T) {
	m, err := Parse(valid())
	if err != nil {
		t.Fatal(err)
	}
	if m.Intensity.Kind != "bits" {
		t.Fatalf("no declared transform gives %+v, want bits", m.Intensity)
	}
	for _, kind := range []string{"bits", "minmax", "file_window"} {
		p := valid()
		p[Prefix+"intensity"] = `{"kind":"` + kind + `"}`
		if m, err := Parse(p); err != nil || m.Intensity.Kind != kind {
			t.Fatalf("declared %s: %+v, %v", kind, m, err)
		}
	}
	p := valid()
	p[Prefix+"intensity"] = `{"kind":"bytes"}`
	if _, err := Parse(p); err == nil || !strings.Contains(err.Error(), "want bits, window, file_window or minmax") {
		t.Fatalf("an unknown kind: %v", err)
	}
}
