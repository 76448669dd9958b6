package modelmeta

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ClassCode names a class in a coding scheme (SNOMED CT, RadLex, LOINC, a
// site's own): how a DICOM structured report codes the class
// (didicm.class_codes). The lengths are DICOM's: Code Value up to 16
// characters (longer ones go to Long Code Value, up to 64 here), Coding
// Scheme Designator and Version up to 16, Code Meaning up to 64.
type ClassCode struct {
	Value  string `json:"value"`
	Scheme string `json:"scheme"`
	// SchemeVersion is set when the scheme's designator alone does not
	// say which version of it the value is from.
	SchemeVersion string `json:"scheme_version,omitempty"`
	// Meaning is the code's meaning as the scheme words it; empty means
	// the class name.
	Meaning string `json:"meaning,omitempty"`
}

// classCodes reads the optional didicm.class_codes: a JSON array of
// K entries in class-index order, each a ClassCode or null (a class
// without a code: a report codes it in a private scheme).
func (p *parser) classCodes(k int) []*ClassCode {
	raw, ok := p.props[Prefix+"class_codes"]
	if !ok || p.err != nil {
		return nil
	}
	var codes []*ClassCode
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&codes); err != nil {
		p.err = &Error{Key: "class_codes", Value: raw, Problem: "not a JSON array of {value, scheme, scheme_version, meaning} or null: " + err.Error()}
		return nil
	}
	if len(codes) != k {
		p.err = &Error{Key: "class_codes", Problem: fmt.Sprintf("%d entries for num_classes %d", len(codes), k)}
		return nil
	}
	for i, c := range codes {
		if c == nil {
			continue
		}
		if why := c.problem(); why != "" {
			p.err = &Error{Key: "class_codes", Problem: fmt.Sprintf("class %d: %s", i, why)}
			return nil
		}
	}
	return codes
}

// problem says why c cannot be written into a DICOM code, or returns "".
func (c *ClassCode) problem() string {
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
	}{{"value", c.Value, 64, true}, {"scheme", c.Scheme, 16, true}, {"scheme_version", c.SchemeVersion, 16, false},
		{"meaning", c.Meaning, 64, false}} {
		n := utf8.RuneCountInString(f.v)
		switch {
		case f.required && strings.TrimSpace(f.v) == "":
			return f.name + " is empty"
		case n > f.max:
			return fmt.Sprintf("%s has %d characters, at most %d", f.name, n, f.max)
		case !plainText(f.v, f.max):
			return f.name + " holds a control character or a backslash"
		case f.v != strings.TrimSpace(f.v):
			return f.name + " starts or ends with a space"
		}
	}
	return ""
}

// plainText says whether s fits a DICOM LO value: at most max characters
// of valid UTF-8 without control characters or backslashes.
func plainText(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' })
}
