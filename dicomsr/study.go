package dicomsr

import (
	"errors"
	"io"

	"github.com/didicm/didicm/dicomsr/part10"
)

// Study is what a report copies from its source study: the Patient,
// General Study and Patient Study modules' text attributes, as one of the
// study's own instances holds them (PS3.3 C.7.1.1, C.7.2.1, C.7.2.2), so
// that a PACS files the report with the study. Sequences and binary
// attributes of these modules are not copied.
type Study struct {
	UID     string
	attrs   part10.Dataset // copied verbatim, in the source's character set
	charset string         // the source's Specific Character Set, as written
}

// Tags the report reads from a source instance.
const (
	tagCharset  part10.Tag = 0x00080005
	tagSOPClass part10.Tag = 0x00080016
	tagSOP      part10.Tag = 0x00080018
	tagStudyUID part10.Tag = 0x0020000D
	tagSeries   part10.Tag = 0x0020000E
)

// copiedAttrs are the attributes copied, with their VRs; type2 those the
// report carries, empty, when the source has none.
var (
	copiedAttrs = part10.Want{
		// Patient
		0x00100010: "PN", 0x00100020: "LO", 0x00100021: "LO", 0x00100022: "CS", 0x00100030: "DA",
		0x00100032: "TM", 0x00100040: "CS", 0x00101001: "PN", 0x00102160: "SH", 0x00104000: "LT",
		0x00102201: "LO", 0x00102292: "LO", 0x00102297: "PN", 0x00102298: "CS", 0x00102299: "LO",
		0x00120062: "CS", 0x00120063: "LO", 0x00100200: "CS",
		// General Study
		0x00080020: "DA", 0x00080030: "TM", 0x00080090: "PN", 0x00200010: "SH", 0x00080050: "SH",
		0x00081030: "LO", 0x00081048: "PN", 0x00081060: "PN",
		// Patient Study
		0x00101010: "AS", 0x00101020: "DS", 0x00101030: "DS", 0x00102180: "SH", 0x001021B0: "LT",
		0x00081080: "LO", 0x00102203: "CS",
	}
	type2 = []part10.Tag{0x00100010, 0x00100020, 0x00100030, 0x00100040, 0x00080020, 0x00080030, 0x00080090,
		0x00200010, 0x00080050}
)

// studyWant is what ReadStudy keeps of a header.
var studyWant = func() part10.Want {
	w := part10.Want{tagCharset: "CS", tagStudyUID: "UI", tagSOPClass: "UI", tagSOP: "UI", tagSeries: "UI"}
	for t, vr := range copiedAttrs {
		w[t] = vr
	}
	return w
}()

// ErrNoStudy marks an instance without a Study Instance UID.
var ErrNoStudy = errors.New("DICOM instance without a Study Instance UID")

// ReadStudy reads a source instance's header (at most limit bytes, 0:
// part10.DefaultMaxHeader) for its study's attributes. What it reads is
// patient data: it goes into reports only, never into an error or a log.
func ReadStudy(r io.Reader, limit int64) (Study, error) {
	h, err := part10.ReadHeader(r, studyWant, limit)
	if err != nil {
		return Study{}, err
	}
	return studyOf(h)
}

func studyOf(h part10.Header) (Study, error) {
	s := Study{UID: h.Elements.Text(tagStudyUID), charset: h.Elements.Text(tagCharset)}
	if s.UID == "" {
		return Study{}, ErrNoStudy
	}
	for _, e := range h.Elements {
		if _, ok := copiedAttrs[e.Tag]; ok {
			s.attrs = append(s.attrs, part10.Verbatim(e))
		}
	}
	return s, nil
}

// merge adds the study's attributes to a report's dataset, in a character
// set that holds them and the report's own text (charset.go).
func (s Study) merge(ds part10.Dataset) (part10.Dataset, error) {
	if s.UID == "" {
		return nil, ErrNoStudy
	}
	ds = append(ds, part10.UID(tagStudyUID, s.UID))
	present := map[part10.Tag]bool{}
	attrs, ours := s.attrs, ds
	cs := decideCharset(s.charset, &attrs, &ours)
	for _, e := range attrs {
		present[e.Tag] = true
	}
	out := append(ours, attrs...)
	for _, t := range type2 {
		if !present[t] {
			out = append(out, part10.Element{Tag: t, VR: copiedAttrs[t]})
		}
	}
	if cs != "" {
		out = append(out, cs.element())
	}
	return out, nil
}
