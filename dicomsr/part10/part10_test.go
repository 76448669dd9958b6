package part10_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/dicomsr/part10"
)

var meta = part10.Meta{SOPClass: "1.2.840.10008.5.1.4.1.1.88.33", SOPInstance: "2.25.1234",
	ImplementationClass: "2.25.99", ImplementationVersion: "TEST_1"}

func sample() part10.Dataset {
	code := part10.Dataset{
		part10.Text(0x00080100, "SH", "121071"),
		part10.Text(0x00080102, "SH", "DCM"),
		part10.Text(0x00080104, "LO", "Finding"),
	}
	return part10.Dataset{
		part10.Text(0x00100010, "PN", "Doe^Jan"), // odd: padded with a space
		part10.UID(0x00080016, meta.SOPClass),
		part10.UID(0x00080018, meta.SOPInstance), // out of order: sorted on writing
		part10.Text(0x00080060, "CS", "SR"),
		part10.Seq(0x0040A043, code),
		part10.Seq(0x00081111), // present and empty
		part10.US(0x00280010, 7),
	}
}

func TestAnEncodedFileIsReadByDcmtkWithEveryValueAndPadding(t *testing.T) {
	data, err := part10.Encode(meta, sample())
	if err != nil {
		t.Fatal(err)
	}
	if string(data[128:132]) != "DICM" || len(data)%2 != 0 {
		t.Fatalf("no DICM marker or odd length %d", len(data))
	}
	if !bytes.Contains(data, []byte("UI\x0a\x002.25.1234\x00")) {
		t.Fatal("an odd UID is not padded with NUL")
	}
	path := filepath.Join(t.TempDir(), "x.dcm")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dcmdump", "-dc", "+L", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dcmdump: %v\n%s", err, out)
	}
	dump := string(out)
	for _, want := range []string{
		"(0002,0000) UL 128", "(0002,0001) OB 00\\01", "(0002,0010) UI =LittleEndianExplicit",
		"(0002,0012) UI [2.25.99", "(0002,0013) SH [TEST_1]",
		"(0008,0018) UI [2.25.1234", "(0008,0060) CS [SR]", "(0010,0010) PN [Doe^Jan ]",
		"(0008,0100) SH [121071]", "(0008,1111) SQ (Sequence with explicit length #=0)", "(0028,0010) US 7",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dcmdump lacks %q:\n%s", want, dump)
		}
	}
	if strings.Contains(dump, "W: ") || strings.Contains(dump, "E: ") {
		t.Errorf("dcmdump warns:\n%s", dump)
	}
	if i, j := strings.Index(dump, "(0008,0016)"), strings.Index(dump, "(0008,0018)"); i < 0 || j < i {
		t.Errorf("elements out of order:\n%s", dump)
	}
}

func TestEncodeRefusesWhatItsVRDoesNotAllow(t *testing.T) {
	for name, e := range map[string]part10.Element{
		"a lower-case code string":      part10.Text(0x00080060, "CS", "sr"),
		"a short string of 17":          part10.Text(0x00080100, "SH", strings.Repeat("x", 17)),
		"a UID with a leading zero":     part10.UID(0x00080018, "1.02.3"),
		"a UID with a letter":           part10.UID(0x00080018, "1.2.a"),
		"a long string with a newline":  part10.Text(0x00080104, "LO", "two\nlines"),
		"a date with a dash":            part10.Text(0x00080020, "DA", "2024-01-01"),
		"an unknown VR":                 {Tag: 0x00080020, VR: "XX", Value: []byte("1")},
		"a file meta element":           part10.UID(0x00020010, "1.2"),
		"a long string of 65 in a list": part10.Text(0x00081030, "LO", "ok", strings.Repeat("é", 65)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := part10.Encode(meta, part10.Dataset{e})
			if !errors.Is(err, part10.ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("a tag given twice", func(t *testing.T) {
		ds := part10.Dataset{part10.Text(0x00080060, "CS", "SR"), part10.Text(0x00080060, "CS", "OT")}
		if _, err := part10.Encode(meta, ds); !errors.Is(err, part10.ErrInvalid) {
			t.Fatalf("err %v, want ErrInvalid", err)
		}
	})
}

func TestACopiedValueKeepsCharactersOursWouldNotHave(t *testing.T) {
	raw := part10.Element{Tag: 0x00100010, VR: "PN", Value: []byte("\x1b$BYamada\x1b(B ")}
	data, err := part10.Encode(meta, part10.Dataset{part10.Verbatim(raw)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("\x1b$BYamada\x1b(B")) {
		t.Fatal("the copied bytes are not in the file")
	}
}

// corpusEntry is one file of dicomweb's corpus (dicomweb/testdata).
type corpusEntry struct {
	File, Study, Series, SOP string
	TransferSyntax           string `json:"transfer_syntax"`
}

func TestReadHeaderReadsEveryCorpusSyntaxUpToTheWantedTags(t *testing.T) {
	raw, err := os.ReadFile("../../dicomweb/testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var corpus []corpusEntry
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatal(err)
	}
	want := part10.Want{0x00080016: "UI", 0x00080018: "UI", 0x00100010: "PN", 0x0020000D: "UI", 0x0020000E: "UI"}
	for _, e := range corpus {
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			f, err := os.Open(filepath.Join("../../dicomweb/testdata", e.File))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h, err := part10.ReadHeader(f, want, 0)
			if err != nil {
				t.Fatal(err)
			}
			els := h.Elements
			got := []string{h.TransferSyntax, els.Text(0x0020000D), els.Text(0x0020000E), els.Text(0x00080018)}
			exp := []string{e.TransferSyntax, e.Study, e.Series, e.SOP}
			if strings.Join(got, " ") != strings.Join(exp, " ") {
				t.Fatalf("got %q, want %q", got, exp)
			}
			if !strings.HasPrefix(els.Text(0x00100010), "CORPUS^") || els.Text(0x00080016) == "" {
				t.Fatalf("patient name %q, SOP class %q", els.Text(0x00100010), els.Text(0x00080016))
			}
		})
	}
}

// el writes one Explicit VR Little Endian element with a 32-bit length
// for SQ and OB.
func el(tag uint32, vr string, length uint32, value []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(tag>>16))
	b = binary.LittleEndian.AppendUint16(b, uint16(tag))
	b = append(b, vr...)
	if vr == "SQ" || vr == "OB" {
		b = append(b, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, length)
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(length))
	}
	return append(b, value...)
}

func TestReadHeaderSkipsUndefinedLengthSequencesAndStopsAtItsLimit(t *testing.T) {
	item := append(binary.LittleEndian.AppendUint32([]byte{0xFE, 0xFF, 0x00, 0xE0}, 0xFFFFFFFF),
		el(0x00081150, "UI", 4, []byte("1.2\x00"))...)
	item = append(item, 0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0) // item delimiter
	seq := append(el(0x00081110, "SQ", 0xFFFFFFFF, item), 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
	var ds []byte
	ds = append(ds, el(0x00080018, "UI", 4, []byte("1.5\x00"))...)
	ds = append(ds, seq...)
	ds = append(ds, el(0x00091010, "OB", 1<<20, make([]byte, 1<<20))...) // a private megabyte
	ds = append(ds, el(0x00100010, "PN", 4, []byte("A^B "))...)
	want := part10.Want{0x00080018: "UI", 0x00100010: "PN"}
	h, err := part10.ReadHeader(bytes.NewReader(ds), want, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.Elements.Text(0x00100010) != "A^B" || h.Elements.Text(0x00080018) != "1.5" || len(h.Elements) != 2 {
		t.Fatalf("kept %+v", h.Elements)
	}
	if _, err := part10.ReadHeader(bytes.NewReader(ds), want, 64<<10); !errors.Is(err, part10.ErrMalformed) {
		t.Fatalf("with a 64 KiB limit: err %v, want ErrMalformed", err)
	}
}

func TestReadHeaderRefusesWhatIsNotDICOM(t *testing.T) {
	for name, b := range map[string][]byte{
		"text":      []byte("this is not a DICOM file at all"),
		"truncated": append(make([]byte, 128), "DICM\x02\x00\x10\x00UI\x40\x00"...),
		"short":     {1, 2},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := part10.ReadHeader(bytes.NewReader(b), part10.Want{0x00100010: "PN"}, 0); !errors.Is(err, part10.ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
		})
	}
}

func TestACopiedValueThatBreaksItsVRIsRefusedWithoutQuotingIt(t *testing.T) {
	name := strings.Repeat("Verylongname^", 20) // 260 characters: over PN's 3 × 64
	_, err := part10.Encode(meta, part10.Dataset{part10.Verbatim(part10.Text(0x00100010, "PN", name))})
	if !errors.Is(err, part10.ErrInvalid) || strings.Contains(err.Error(), "Verylongname") {
		t.Fatalf("err %v: want ErrInvalid without the value", err)
	}
}
