package dicomsr_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/dicomsr/part10"
	"github.com/didicm/didicm/internal/dicomtest"
)

// sourceHeader is a source instance's header with a patient name in a
// character set, as a PACS would send it.
func sourceHeader(charset string, name []byte) []byte {
	var d dicomtest.Dataset
	if charset != "" {
		d.El(0x0008, 0x0005, "CS", dicomtest.Text(charset))
	}
	d.El(0x0008, 0x0016, "UI", dicomtest.Text("1.2.840.10008.5.1.4.1.1.7.2\x00")).
		El(0x0008, 0x0018, "UI", dicomtest.Text("1.2.3.4.1")).
		El(0x0008, 0x0020, "DA", dicomtest.Text("20240102")).
		El(0x0008, 0x1030, "LO", dicomtest.Text("Thorax")).
		El(0x0010, 0x0010, "PN", dicomtest.Text(string(name))).
		El(0x0010, 0x0020, "LO", dicomtest.Text("ID-42")).
		El(0x0020, 0x000D, "UI", dicomtest.Text("1.2.3")).
		El(0x0020, 0x000E, "UI", dicomtest.Text("1.2.3.4"))
	return dicomtest.Part10("1.2.840.10008.1.2.1", d.Bytes())
}

// multiFrameReport is a report on frames 1 and 3 of a Multi-frame
// Grayscale Byte Secondary Capture instance (a multi-frame SOP class).
func multiFrameReport(t *testing.T, st dicomsr.Study, model dicomsr.Model) dicomsr.Report {
	t.Helper()
	img := func(frame int, class int, set ...int) dicomsr.Image {
		im := dicomsr.Image{Series: "1.2.3.4", SOPClass: "1.2.840.10008.5.1.4.1.1.7.2", SOP: "1.2.3.4.1", Frame: frame,
			Class: model.Classes[class], Probability: 0.5, EntropyNorm: 0.25, Review: len(set) != 1,
			TrackingUID: dicomsr.DeriveUID("test", string(rune('0'+frame)))}
		if set != nil {
			im.Set = []dicomsr.Code{}
			for _, c := range set {
				im.Set = append(im.Set, model.Classes[c])
			}
		}
		return im
	}
	return dicomsr.Report{Study: st, SeriesUID: dicomsr.DeriveUID("series"), InstanceUID: dicomsr.DeriveUID("instance"),
		SeriesNumber: 9901, Time: time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC), Model: model,
		Parameters: []string{"sampler=cp T=2"}, SoftwareVersion: "didicm test",
		Images: []dicomsr.Image{img(1, 7, 7, 1), img(3, 1, 1)}}
}

func TestAMultiFrameReferenceNamesItsFrameAndASetListsItsClasses(t *testing.T) {
	st, err := dicomsr.ReadStudy(bytes.NewReader(sourceHeader("", []byte("Doe^Jane"))), 0)
	if err != nil {
		t.Fatal(err)
	}
	rep := multiFrameReport(t, st, testModel(t))
	data, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dump := validate(t, data)
	for _, want := range []string{
		`<contains IMAGE:(260753009,SCT,"Source")=("1.2.840.10008.5.1.4.1.1.7.2","1.2.3.4.1",1)>`,
		`<contains IMAGE:(260753009,SCT,"Source")=("1.2.840.10008.5.1.4.1.1.7.2","1.2.3.4.1",3)>`,
		`<contains CODE:(121071,DCM,"Finding")=(1000001,SCT,"Digit one")>`,
		`<contains NUM:(PRED_SET_SIZE,99DIDICM,"Prediction set size")="2" (1,UCUM,"no units")>`,
		`<contains CODE:(PRED_SET,99DIDICM,"Prediction set member")=(1000001,SCT,"Digit one")>`,
		`<contains CODE:(REVIEW,99DIDICM,"Flagged for review")=(373066001,SCT,"Yes")>`,
		`<contains CODE:(REVIEW,99DIDICM,"Flagged for review")=(373067005,SCT,"No")>`,
		`<has concept mod TEXT:(111001,DCM,"Algorithm Name")="digits-test">`,
		`<has concept mod TEXT:(111003,DCM,"Algorithm Version")="1.0">`,
		"Patient             : Doe^Jane (#ID-42)",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dsrdump lacks %s", want)
		}
	}
	// Class 7's code is longer than a Code Value holds: Long Code Value.
	if !bytes.Contains(data, []byte("RID-SEVEN-LONG-CODE-VALUE")) || strings.Count(dump, "PRED_SET,") != 3 {
		t.Errorf("long code value missing or set members miscounted:\n%s", dump)
	}
}

func TestPatientNamesInOtherCharacterSetsReachTheReportIntact(t *testing.T) {
	model := testModel(t)
	accented := testModel(t)
	accented.Classes[1].Meaning = "Lésion"
	for _, tt := range []struct {
		name, charset string
		patient       []byte
		model         dicomsr.Model
		wantCharset   string
		wantName      []byte
	}{
		{"ASCII stays in the default repertoire", "", []byte("Doe^Jane"), model, "", []byte("Doe^Jane")},
		{"Latin-1 becomes UTF-8", "ISO_IR 100", []byte("M\xfcller^J\xfcrgen"), model, "ISO_IR 192", []byte("Müller^Jürgen")},
		{"UTF-8 stays UTF-8", "ISO_IR 192", []byte("Müller^Jürgen"), model, "ISO_IR 192", []byte("Müller^Jürgen")},
		{"our accented class names make an ASCII study UTF-8", "", []byte("Doe^Jane"), accented, "ISO_IR 192", []byte("Doe^Jane")},
		{"ISO 2022 Japanese is copied as it is", `\ISO 2022 IR 87`, []byte("Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B"),
			accented, `\ISO 2022 IR 87`, []byte("Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := dicomsr.ReadStudy(bytes.NewReader(sourceHeader(tt.charset, tt.patient)), 0)
			if err != nil {
				t.Fatal(err)
			}
			rep := multiFrameReport(t, st, tt.model)
			data, err := rep.Encode()
			if err != nil {
				t.Fatal(err)
			}
			validate(t, data)
			h, err := part10.ReadHeader(bytes.NewReader(data), part10.Want{0x00080005: "CS", 0x00100010: "PN"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if cs := h.Elements.Text(0x00080005); cs != tt.wantCharset {
				t.Errorf("Specific Character Set %q, want %q", cs, tt.wantCharset)
			}
			if name := h.Elements.Text(0x00100010); name != string(tt.wantName) {
				t.Errorf("patient name %q, want %q", name, tt.wantName)
			}
			if tt.wantCharset == `\ISO 2022 IR 87` && !bytes.Contains(data, []byte("L?sion")) {
				t.Error("our own text is not folded to ASCII beside an ISO 2022 source")
			}
		})
	}
}

func TestAReportEncodesToTheSameBytesEveryTime(t *testing.T) {
	st, err := dicomsr.ReadStudy(bytes.NewReader(sourceHeader("", []byte("Doe^Jane"))), 0)
	if err != nil {
		t.Fatal(err)
	}
	rep := multiFrameReport(t, st, testModel(t))
	a, err := rep.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := rep.Encode()
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("two encodings differ (%v)", err)
	}
}

func TestDerivedUIDsAreValidStableAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, parts := range [][]string{{"job", "1.2.3"}, {"job", "1.2.4"}, {"jo", "b1.2.3"}, {"job1.2.3"}, {}} {
		uid := dicomsr.DeriveUID(parts...)
		if uid != dicomsr.DeriveUID(parts...) || seen[uid] || len(uid) > 64 || !strings.HasPrefix(uid, "2.25.") ||
			strings.HasPrefix(uid, "2.25.0") {
			t.Errorf("%q -> %q: unstable, repeated, too long or with a leading zero", parts, uid)
		}
		seen[uid] = true
		if _, err := part10.Encode(part10.Meta{SOPClass: "1.2", SOPInstance: uid, ImplementationClass: "1.2",
			ImplementationVersion: "X"}, nil); err != nil {
			t.Errorf("%s is not a valid UID: %v", uid, err)
		}
	}
}
