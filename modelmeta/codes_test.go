package modelmeta

import (
	"errors"
	"strings"
	"testing"
)

func TestClassCodesAreReadWithNullsForClassesWithoutOne(t *testing.T) {
	p := valid()
	p[Prefix+"class_codes"] = `[{"value":"17621005","scheme":"SCT","meaning":"Normal"},null,
		{"value":"RID5352","scheme":"RADLEX","scheme_version":"4.1"}]`
	p[Prefix+"model_name"], p[Prefix+"model_version"] = "chest-triage", "2.1.0"
	m, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	c := m.ClassCodes
	if len(c) != 3 || c[0].Value != "17621005" || c[0].Meaning != "Normal" || c[1] != nil || c[2].SchemeVersion != "4.1" {
		t.Fatalf("codes %+v", c)
	}
	if m.Name != "chest-triage" || m.Version != "2.1.0" {
		t.Fatalf("name %q version %q", m.Name, m.Version)
	}
	if m, err := Parse(valid()); err != nil || m.ClassCodes != nil || m.Name != "" {
		t.Fatalf("without the keys: %+v, %v", m, err)
	}
}

func TestClassCodesThatCannotBeWrittenAreRefusedByClass(t *testing.T) {
	for _, tt := range []struct{ name, codes, want string }{
		{"too few", `[null,null]`, "2 entries for num_classes 3"},
		{"not JSON", `{"a":1}`, "not a JSON array"},
		{"an unknown field", `[{"value":"1","scheme":"SCT","codeset":"x"},null,null]`, "unknown field"},
		{"no value", `[null,{"value":" ","scheme":"SCT"},null]`, "class 1: value is empty"},
		{"no scheme", `[null,null,{"value":"1"}]`, "class 2: scheme is empty"},
		{"a long scheme", `[{"value":"1","scheme":"ABCDEFGHIJKLMNOPQ"},null,null]`, "scheme has 17 characters, at most 16"},
		{"a backslash", `[{"value":"1\\2","scheme":"SCT"},null,null]`, "backslash"},
		{"a long meaning", `[{"value":"1","scheme":"SCT","meaning":"` + strings.Repeat("m", 65) + `"},null,null]`, "meaning has 65"},
		{"a padded value", `[{"value":" 1","scheme":"SCT"},null,null]`, "starts or ends with a space"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			p[Prefix+"class_codes"] = tt.codes
			_, err := Parse(p)
			var me *Error
			if !errors.As(err, &me) || me.Key != "class_codes" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v; want one naming class_codes with %q", err, tt.want)
			}
		})
	}
	p := valid()
	p[Prefix+"model_name"] = "two\nlines"
	if _, err := Parse(p); err == nil || !strings.Contains(err.Error(), "model_name") {
		t.Fatalf("a model name with a newline: %v", err)
	}
}
