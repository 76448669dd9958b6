package part10

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// vrRule is what a VR allows: the most characters per value (0: no bound
// but the 32-bit length), whether '\' separates values, and the
// characters allowed (nil: any but control characters other than ESC,
// and for LT, ST and UT also CR, LF, FF and TAB).
type vrRule struct {
	max   int
	multi bool
	chars func(rune) bool
}

func upperCS(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '_'
}
func digits(r rune) bool  { return r >= '0' && r <= '9' }
func uidChar(r rune) bool { return digits(r) || r == '.' }
func dsChar(r rune) bool {
	return digits(r) || r == '+' || r == '-' || r == '.' || r == 'e' || r == 'E' || r == ' '
}
func isChar(r rune) bool { return digits(r) || r == '+' || r == '-' || r == ' ' }
func tmChar(r rune) bool { return digits(r) || r == '.' || r == ' ' }
func dtChar(r rune) bool { return digits(r) || r == '.' || r == '+' || r == '-' || r == ' ' }
func asChar(r rune) bool { return digits(r) || r == 'D' || r == 'W' || r == 'M' || r == 'Y' }

var textRules = map[string]vrRule{
	"AE": {16, true, nil}, "AS": {4, true, asChar}, "CS": {16, true, upperCS}, "DA": {8, true, digits},
	"DS": {16, true, dsChar}, "DT": {26, true, dtChar}, "IS": {12, true, isChar}, "LO": {64, true, nil},
	"LT": {10240, false, nil}, "PN": {3*64 + 2, true, nil}, "SH": {16, true, nil}, "ST": {1024, false, nil},
	"TM": {14, true, tmChar}, "UC": {0, true, nil}, "UI": {64, true, uidChar}, "UR": {0, false, nil},
	"UT": {0, false, nil},
}

// binaryVRs hold numbers or bytes; SQ holds items.
var binaryVRs = map[string]bool{"AT": true, "FD": true, "FL": true, "OB": true, "OD": true, "OF": true, "OL": true,
	"OV": true, "OW": true, "SL": true, "SS": true, "SV": true, "UL": true, "UN": true, "US": true, "UV": true}

// longVRs have a reserved field and a 32-bit length in Explicit VR.
var longVRs = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true, "SQ": true,
	"SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true}

func isText(vr string) bool { _, ok := textRules[vr]; return ok }

// knownVR says whether vr is one of DICOM's.
func knownVR(vr string) bool { return isText(vr) || binaryVRs[vr] || vr == "SQ" }

// padByte is what pads an odd value: NUL for UI and binary VRs, else a space.
func padByte(vr string) byte {
	if vr == "UI" || binaryVRs[vr] {
		return 0
	}
	return ' '
}

// check says why e's value breaks its VR's rules, or returns nil.
func (e Element) check() error {
	if !knownVR(e.VR) {
		return fmt.Errorf("%s: unknown VR %q", e.Tag, e.VR)
	}
	rule, text := textRules[e.VR]
	if !text || len(e.Value) == 0 {
		return nil
	}
	values := []string{string(e.Value)}
	if rule.multi {
		values = strings.Split(string(e.Value), `\`)
	}
	for _, v := range values {
		if err := rule.checkValue(e, v); err != nil {
			if e.verbatim { // a copied value may be patient data: never in an error
				return fmt.Errorf("%s %s (copied, %d bytes): %w", e.Tag, e.VR, len(v), err)
			}
			return fmt.Errorf("%s %s %q: %w", e.Tag, e.VR, v, err)
		}
	}
	return nil
}

func (rule vrRule) checkValue(e Element, v string) error {
	n := len(v)
	if utf8.ValidString(v) {
		n = utf8.RuneCountInString(v)
	}
	if rule.max > 0 && n > rule.max {
		return fmt.Errorf("%d characters, the VR allows %d", n, rule.max)
	}
	if e.verbatim {
		return nil
	}
	for _, r := range v {
		if rule.chars != nil && !rule.chars(r) || rule.chars == nil && !textRune(e.VR, r) {
			return fmt.Errorf("character %q not allowed", r)
		}
	}
	if e.VR == "UI" {
		return checkUID(v)
	}
	return nil
}

// textRune allows what the default and UTF-8 repertoires allow in free
// text: no control characters but ESC (and in LT, ST and UT, CR, LF, FF
// and TAB).
func textRune(vr string, r rune) bool {
	if r >= 0x20 && r != 0x7f || r == 0x1b {
		return r != utf8.RuneError
	}
	long := vr == "LT" || vr == "ST" || vr == "UT"
	return long && (r == '\r' || r == '\n' || r == '\f' || r == '\t')
}

// checkUID checks a UID's form: dot-separated numbers without leading
// zeros, at most 64 characters.
func checkUID(uid string) error {
	for _, c := range strings.Split(uid, ".") {
		if c == "" || len(c) > 1 && c[0] == '0' {
			return fmt.Errorf("UID component %q: empty or with a leading zero", c)
		}
	}
	return nil
}
