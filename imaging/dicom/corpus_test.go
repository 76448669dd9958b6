package dicom_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"

	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
)

// corpusDir is build/dicom-corpus (make dicom-corpus), made with dcmtk and
// GDCM, with reference decodes by pydicom/GDCM/dcmtk.
func corpusDir(t *testing.T) string {
	dir := os.Getenv("DIDICM_DICOM_CORPUS")
	if dir == "" {
		dir = "../../build/dicom-corpus"
	}
	if _, err := os.Stat(filepath.Join(dir, "corpus.json")); err != nil {
		t.Fatalf("no DICOM corpus at %s (make dicom-corpus): %v", dir, err)
	}
	return dir
}

type corpusEntry struct {
	File           string     `json:"file"`
	TransferSyntax string     `json:"transfer_syntax"`
	Photometric    string     `json:"photometric"`
	Frames         int        `json:"frames"`
	Rescale        [2]float64 `json:"rescale"`
	Tolerance      float64    `json:"tolerance"`
	Malformed      bool       `json:"malformed"`
	Lossless       bool       `json:"lossless"`
	Expect         string     `json:"expect"`
	Input          string     `json:"input"`
	InputBits      string     `json:"input_bits"`
	LUTReference   string     `json:"lut_reference"`
	ReferenceTool  string     `json:"reference_tool"`
}

func readCorpus(t *testing.T, dir string) []corpusEntry {
	data, err := os.ReadFile(filepath.Join(dir, "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var es []corpusEntry
	if err := json.Unmarshal(data, &es); err != nil {
		t.Fatal(err)
	}
	return es
}

var npyShape = regexp.MustCompile(`'shape': \(([^)]*)\)`)

// readNpy reads a little-endian int32, int64 or float32 .npy array as float64.
func readNpy(t *testing.T, path string) ([]float64, []int) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	header, body := string(b[10:10+hl]), b[10+hl:]
	var shape []int
	for _, f := range strings.Split(npyShape.FindStringSubmatch(header)[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			n, _ := strconv.Atoi(f)
			shape = append(shape, n)
		}
	}
	var out []float64
	switch {
	case strings.Contains(header, "'<i4'"):
		for i := 0; i+4 <= len(body); i += 4 {
			out = append(out, float64(int32(binary.LittleEndian.Uint32(body[i:]))))
		}
	case strings.Contains(header, "'<i8'"):
		for i := 0; i+8 <= len(body); i += 8 {
			out = append(out, float64(int64(binary.LittleEndian.Uint64(body[i:]))))
		}
	case strings.Contains(header, "'<f4'"):
		for i := 0; i+4 <= len(body); i += 4 {
			out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(body[i:]))))
		}
	default:
		t.Fatalf("%s: dtype in %q", path, header)
	}
	return out, shape
}

// TestTheCorpusDecodesAsTheReferenceReaders: every file of every syntax and
// photometric, frame by frame, against an independent decoder: exactly for
// lossless files, within the corpus's stated tolerance for lossy ones.
func TestTheCorpusDecodesAsTheReferenceReaders(t *testing.T) {
	dir := corpusDir(t)
	checked := map[string]int{}
	for _, e := range readCorpus(t, dir) {
		if e.Malformed {
			continue
		}
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			img, err := dicom.Parse(data, dicom.Limits{})
			if e.TransferSyntax == dicom.JPEGExtended && !codecsRegistered {
				if !errors.Is(err, dicom.ErrUnsupportedSyntax) || !strings.Contains(err.Error(), e.TransferSyntax) {
					t.Fatalf("12-bit JPEG: %v, want ErrUnsupportedSyntax naming the UID", err)
				}
				return
			}
			if errors.Is(err, dicom.ErrUnsupportedSyntax) && !codecsRegistered {
				t.Skipf("%s: codec not in this build", e.TransferSyntax)
			}
			if err != nil {
				t.Fatal(err)
			}
			refFile := strings.Replace(e.File, "files/", "ref/", 1) + ".npy"
			if e.LUTReference != "" {
				refFile = e.LUTReference
			}
			ref, shape := readNpy(t, filepath.Join(dir, refFile))
			per := len(ref) / max(1, shape[0])
			worst := 0.0
			for i := range img.Frames {
				f, err := img.Frame(i)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				want := ref[i*per : (i+1)*per]
				if len(f.Values) != len(want) {
					t.Fatalf("frame %d: %d values, reference %d (shape %v)", i, len(f.Values), len(want), shape)
				}
				for k, v := range f.Values {
					w := want[k]
					if f.Channels == 1 {
						w = w*e.Rescale[0] + e.Rescale[1]
					}
					worst = math.Max(worst, math.Abs(v-w))
				}
			}
			// Grey values are compared in modality units: the tolerance is in stored units times the slope.
			if tol := e.Tolerance * math.Max(1, math.Abs(e.Rescale[0])); worst > tol+1e-9 {
				t.Fatalf("%s %s: max |Δ| %g against %s, tolerance %g", e.TransferSyntax, e.Photometric, worst, e.ReferenceTool, tol)
			}
			checked[e.TransferSyntax]++
		})
	}
	t.Logf("files checked per transfer syntax: %v", checked)
}

func TestMalformedCorpusFilesAreErrors(t *testing.T) {
	dir := corpusDir(t)
	in := imaging.Input{Channels: 1, Height: 32, Width: 32, Mean: []float32{0}, Std: []float32{1}}
	for _, e := range readCorpus(t, dir) {
		if !e.Malformed {
			continue
		}
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			samples, err := imaging.PreprocessAll(data, in, imaging.Limits{})
			for _, s := range samples {
				err = errors.Join(err, s.Err)
			}
			var ie *imaging.Error
			if !errors.As(err, &ie) || ie.Reason != "corrupt" {
				t.Fatalf("%s (%s): %v, want a corrupt-file error record", e.Expect, e.File, err)
			}
		})
	}
}

// TestGoAndTheToolkitMakeTheSameModelInputs: the toolkit's read_dicom
// (pydicom) and imaging.PreprocessAll give the same 32×32 inputs, with
// min-max and with bits, for every lossless file (lossy ones differ as
// their decoders do).
func TestGoAndTheToolkitMakeTheSameModelInputs(t *testing.T) {
	dir := corpusDir(t)
	for _, kind := range []string{"minmax", "bits"} {
		in := imaging.Input{Channels: 1, Height: 32, Width: 32, Mean: []float32{0}, Std: []float32{1},
			Intensity: imaging.Intensity{Kind: kind}}
		n := 0
		for _, e := range readCorpus(t, dir) {
			input := map[string]string{"minmax": e.Input, "bits": e.InputBits}[kind]
			if e.Malformed || e.Input == "" || !e.Lossless {
				continue
			}
			if input == "" {
				t.Fatalf("%s: no %s input in the corpus (rm -rf %s; make dicom-corpus)", e.File, kind, dir)
			}
			if sameInputs(t, dir, e.File, input, in) {
				n++
			}
		}
		if n < 20 {
			t.Fatalf("%s: only %d files compared", kind, n)
		}
		t.Logf("%s: %d files: Go and toolkit model inputs agree to 1e-5", kind, n)
	}
}

// sameInputs compares PreprocessAll's inputs for file with the toolkit's
// in input; false for a file this build cannot decode (no cgo codecs).
func sameInputs(t *testing.T, dir, file, input string, in imaging.Input) bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	samples, err := imaging.PreprocessAll(data, in, imaging.Limits{})
	if err != nil {
		var ie *imaging.Error
		if errors.As(err, &ie) && ie.Reason == "unsupported_transfer_syntax" && !codecsRegistered {
			return false // JPEG-LS and JPEG 2000 without the cgo codecs
		}
		t.Fatalf("%s: %v", file, err)
	}
	want, _ := readNpy(t, filepath.Join(dir, input))
	for i, s := range samples {
		if s.Err != nil {
			t.Fatalf("%s frame %d: %v", file, i, s.Err)
		}
		for k, v := range s.Input {
			if d := math.Abs(float64(v) - want[i*1024+k]); d > 1e-5 {
				t.Fatalf("%s %s frame %d value %d: Go %v, toolkit %v", file, in.Intensity.Kind, i, k, v, want[i*1024+k])
			}
		}
	}
	return true
}
