package dicomsr

import (
	"strings"
	"unicode/utf8"

	"github.com/didicm/didicm/dicomsr/part10"
)

// charsetValue is the report's Specific Character Set (empty: the
// default repertoire, ASCII).
type charsetValue string

func (c charsetValue) element() part10.Element {
	return part10.Verbatim(part10.Text(tagCharset, "CS", string(c)))
}

// textVRs are those whose values a Specific Character Set governs.
var textVRs = map[string]bool{"SH": true, "LO": true, "ST": true, "LT": true, "PN": true, "UC": true, "UT": true}

// decideCharset picks the report's character set and converts values to
// it. The source's text is copied in UTF-8 (ISO_IR 192) when the source
// is in ASCII (default, ISO_IR 6), Latin-1 (ISO_IR 100) or UTF-8: Latin-1
// bytes become their UTF-8 form, and bytes above ASCII in a source that
// declares no character set are read as UTF-8 when they are valid UTF-8,
// else as Latin-1 (the usual mistake). The report says ISO_IR 192 only
// when some value is not ASCII. A source in any other character set
// (ISO 2022 Japanese or Korean, the other ISO 8859 parts, GB18030) keeps
// its bytes and its Specific Character Set as they are, and the report's
// own text is written in ASCII ('?' for what ASCII lacks).
func decideCharset(source string, attrs, ours *part10.Dataset) charsetValue {
	src := strings.TrimSpace(source)
	switch src {
	case "", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192":
	default:
		*ours = mapText(*ours, asciiOnly)
		return charsetValue(source)
	}
	conv := make(part10.Dataset, len(*attrs))
	for i, e := range *attrs {
		if textVRs[e.VR] {
			e.Value = toUTF8(e.Value, src == "ISO_IR 100")
		}
		conv[i] = e
	}
	*attrs = conv
	if nonASCII(*attrs) || nonASCII(*ours) {
		return "ISO_IR 192"
	}
	return ""
}

func toUTF8(b []byte, latin1 bool) []byte {
	if !latin1 && utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 {
			return r
		}
		return '?'
	}, s)
}

// mapText applies fn to the report's own text values, in sequences too;
// copied values are left alone.
func mapText(ds part10.Dataset, fn func(string) string) part10.Dataset {
	out := make(part10.Dataset, len(ds))
	for i, e := range ds {
		switch {
		case e.VR == "SQ":
			items := make([]part10.Dataset, len(e.Items))
			for j, it := range e.Items {
				items[j] = mapText(it, fn)
			}
			e.Items = items
		case textVRs[e.VR] && !e.Copied():
			e.Value = []byte(fn(string(e.Value)))
		}
		out[i] = e
	}
	return out
}

// nonASCII says whether a text value of ds (or of its sequences) holds a
// byte above ASCII.
func nonASCII(ds part10.Dataset) bool {
	for _, e := range ds {
		if e.VR == "SQ" {
			for _, it := range e.Items {
				if nonASCII(it) {
					return true
				}
			}
			continue
		}
		if textVRs[e.VR] && strings.ContainsFunc(string(e.Value), func(r rune) bool { return r >= 0x80 }) {
			return true
		}
	}
	return false
}
