package classify

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// awkward are strings that need escaping, or that encoding/json rewrites.
var awkward = []string{"plain.png", `say "hi"\`, "tab\tnew\nline\r\x00\x1f\b\f", "<b>&amp;</b>",
	"bad \xff utf-8 \xe2\x82", "sep\u2028ara\u2029tors", "Zürich/東京/😀", ""}

// randomRecord is a record of any shape: failed or classified, with a full
// posterior or top k, CP or CL, calibrated or not, from DICOM or not.
func randomRecord(r *rand.Rand, k int) Record {
	str := func() string {
		if r.IntN(3) == 0 {
			return string(r.Int32N(0x11000)) + awkward[r.IntN(len(awkward))]
		}
		return awkward[r.IntN(len(awkward))]
	}
	rec := Record{Key: str(), ClassIndex: -1, Sampler: []string{"cp", "cl", "softmax"}[r.IntN(3)], Steps: r.IntN(9), NFE: r.IntN(100)}
	if r.IntN(5) == 0 {
		rec.Error, rec.ErrorReason = str(), str()
		return rec
	}
	p := randomPosterior(r, k)
	rec.ClassIndex, rec.Class = r.IntN(k), str()
	rec.MaxProb, rec.Margin, rec.Entropy, rec.EntropyNorm = p[0], p[0]/3, r.ExpFloat64(), r.Float64()
	if r.IntN(2) == 0 {
		rec.Posterior = p
	} else {
		for i := range min(k, 5) {
			rec.TopK = append(rec.TopK, ClassProb{Class: str(), Index: i, Prob: p[i]})
		}
	}
	if rec.Sampler == "cl" {
		a := r.Float64()
		rec.ChainAgreement, rec.Chains = &a, 1+r.IntN(32)
	}
	if r.IntN(2) == 0 {
		rec.PredictionSet = []string{str(), str()}[:r.IntN(3)] // calibrated: maybe an empty set
		n := len(rec.PredictionSet)
		rec.SetSize = &n
	}
	if r.IntN(3) == 0 {
		rec.StudyUID, rec.SeriesUID, rec.SOPUID, rec.Frame = "1.2.3", str(), "1.2.3.4", r.IntN(3)
	}
	if r.IntN(3) == 0 { // a video frame
		t, pts, idx := float64(r.IntN(1e7))/1000, r.Int64N(1e12)-1e6, r.Int64N(1e6)
		rec.T, rec.PTS, rec.FrameIndex = &t, &pts, &idx
	}
	if r.IntN(3) == 0 { // a log message
		t, lt := float64(r.IntN(1e6))/1000, r.Uint64()
		rec.T, rec.Topic, rec.LogTime = &t, "/cam/"+str(), &lt
	}
	return rec
}

// randomPosterior spreads its values over many decades, down to below
// float32's normal range, with exact zeros and a signed zero.
func randomPosterior(r *rand.Rand, k int) []float64 {
	p := make([]float64, k)
	for i := range p {
		switch r.IntN(20) {
		case 0:
			p[i] = 0
		case 1:
			p[i] = math.Copysign(0, -1)
		case 2:
			p[i] = r.Float64() * 1e-40
		default:
			p[i] = math.Exp(-r.ExpFloat64() * 20)
		}
	}
	return p
}

func appendJSON(t testing.TB, rec *Record) []byte {
	t.Helper()
	b, err := rec.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordJSONIsEncodingJSONsApartFromThePosterior(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		rec := randomRecord(r, 1+r.IntN(40))
		rec.Posterior = nil
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSON(t, &rec); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

func TestRecordJSONParsesAsEncodingJSONsWithThePosteriorAtFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		rec := randomRecord(r, 1+r.IntN(2000))
		checkRecordJSON(t, &rec, appendJSON(t, &rec))
	}
}

// checkRecordJSON checks that line, rec's AppendJSON, is valid JSON that
// unmarshals to what encoding/json's line for rec unmarshals to, except
// that each posterior value parses at 32 bits to rec's value rounded to
// float32 (exactly to rec's value below float32's normal range).
func checkRecordJSON(t *testing.T, rec *Record, line []byte) {
	t.Helper()
	std, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got, want Record
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("%v in %s", err, line)
	}
	if err := json.Unmarshal(std, &want); err != nil {
		t.Fatal(err)
	}
	checkPosterior(t, rec.Posterior, line)
	got.Posterior, want.Posterior = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("AppendJSON's line parses to\n%+v\nencoding/json's to\n%+v", got, want)
	}
}

func checkPosterior(t *testing.T, p []float64, line []byte) {
	t.Helper()
	var raw struct{ Posterior []json.Number }
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Posterior) != len(p) {
		t.Fatalf("%d posterior values, want %d", len(raw.Posterior), len(p))
	}
	for i, n := range raw.Posterior {
		if math.Abs(p[i]) < minNormal32 {
			if v, err := strconv.ParseFloat(string(n), 64); err != nil || v != p[i] || math.Signbit(v) != math.Signbit(p[i]) {
				t.Fatalf("posterior[%d] = %s, want %v exactly", i, n, p[i])
			}
			continue
		}
		if v, err := strconv.ParseFloat(string(n), 32); err != nil || float32(v) != float32(p[i]) {
			t.Fatalf("posterior[%d] = %s, want %v at float32 (%v)", i, n, float32(p[i]), p[i])
		}
	}
}

func TestRecordJSONRefusesNonFiniteNumbers(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Record)
	}{
		{"a NaN in the posterior", func(r *Record) { r.Posterior[1] = math.NaN() }},
		{"an infinite entropy", func(r *Record) { r.Entropy = math.Inf(1) }},
		{"a NaN chain agreement", func(r *Record) { a := math.NaN(); r.ChainAgreement = &a }},
		{"an infinite top-k probability", func(r *Record) { r.TopK = []ClassProb{{Prob: math.Inf(-1)}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := Record{Key: "k", Posterior: []float64{0.5, 0.5}}
			tc.set(&rec)
			dst := []byte("kept")
			got, err := rec.AppendJSON(dst)
			if err == nil || string(got) != "kept" {
				t.Fatalf("AppendJSON = %q, %v; want the input back and an error", got, err)
			}
			if _, err := json.Marshal(rec); err == nil {
				t.Fatal("encoding/json accepts it: the case tests nothing")
			}
		})
	}
}

// A calibrated record always has prediction_set, [] when the set is empty,
// so that its readers see one schema; an uncalibrated one has none.
func TestAnEmptyPredictionSetIsWritten(t *testing.T) {
	zero := 0
	rec := Record{Key: "sure.png", Class: "7", ClassIndex: 7, Sampler: "cp", PredictionSet: []string{}, SetSize: &zero}
	want := `"prediction_set":[],"set_size":0`
	if line := appendJSON(t, &rec); !strings.Contains(string(line), want) {
		t.Fatalf("AppendJSON %s: no %s", line, want)
	}
	if line, _ := json.Marshal(rec); !strings.Contains(string(line), want) {
		t.Fatalf("encoding/json %s: no %s", line, want)
	}
	rec.PredictionSet, rec.SetSize = nil, nil
	if line := appendJSON(t, &rec); strings.Contains(string(line), "prediction_set") {
		t.Fatalf("uncalibrated %s has a prediction set", line)
	}
}

// goldenRecords are one of each shape of record.
func goldenRecords() []Record {
	agree, size, zero := 0.8125, 2, 0
	return []Record{
		{Key: "in/<a&b>\"q\"\n\u2028\xff.png", ClassIndex: -1, Sampler: "cp", Steps: 2,
			Error: "decode: corrupt \"PNG\"", ErrorReason: "corrupt"},
		{Key: "in/7.png", Class: "seven", ClassIndex: 2, Posterior: []float64{1e-45, 0, 1 - 1e-7, 1e-7, 0.1, 1.0 / 3, 1e-300, 2e-6, 5e-324,
			1.2345678e-5, 0.00099, 0.001, 0.0123},
			MaxProb: 1 - 1e-7, Margin: 0.9, Entropy: 1e-7, EntropyNorm: 4.5e-8, Sampler: "cp", Steps: 2, NFE: 2},
		{Key: "in/cl.jpg", Class: "cat", ClassIndex: 1, TopK: []ClassProb{{"cat", 1, 0.75}, {"dog", 0, 0.25}},
			MaxProb: 0.75, Margin: 0.5, Entropy: 0.5623351446188083, EntropyNorm: 0.8112781244591328,
			ChainAgreement: &agree, Sampler: "cl", Steps: 8, Chains: 16, NFE: 128, PredictionSet: []string{"cat", "dog"}, SetSize: &size},
		{Key: "ct/IM0001#frame=3", Class: "liver", ClassIndex: 0, Posterior: []float64{0.6, 0.4}, MaxProb: 0.6, Margin: 0.2,
			Entropy: 0.6730116670092565, EntropyNorm: 0.9709505944546686, Sampler: "softmax", NFE: 1,
			StudyUID: "1.2.840.1", SeriesUID: "1.2.840.1.2", SOPUID: "1.2.840.1.2.3", Frame: 3},
		{Key: "in/sure.png", Class: "one", ClassIndex: 1, Posterior: []float64{0.001, 0.999}, MaxProb: 0.999, Margin: 0.998,
			Entropy: 0.007907255112232087, EntropyNorm: 0.011407757737461138, Sampler: "cp", Steps: 2, NFE: 2,
			PredictionSet: []string{}, SetSize: &zero},
	}
}

func TestRecordJSONGolden(t *testing.T) {
	var got []byte
	for _, rec := range goldenRecords() {
		line := appendJSON(t, &rec)
		checkRecordJSON(t, &rec, line)
		got = append(append(got, line...), '\n')
	}
	path := filepath.Join("testdata", "records.jsonl")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("records differ from %s (go test -update to rewrite):\n%s", path, got)
	}
}

func FuzzRecordJSON(f *testing.F) {
	f.Add(uint64(1), 3, "key", "class", "")
	f.Add(uint64(2), 100, "a\"b\\c\n", "<&>", "bad \xff")
	f.Add(uint64(3), 1, "\u2028", "\u2029", "\x00")
	f.Fuzz(func(t *testing.T, seed uint64, k int, key, class, errMsg string) {
		r := rand.New(rand.NewPCG(seed, uint64(k)))
		rec := randomRecord(r, 1+int(uint(k)%3000))
		rec.Key = key
		if rec.Class != "" {
			rec.Class = class
		}
		if rec.Error != "" {
			rec.Error = errMsg + "."
		}
		line := appendJSON(t, &rec)
		if !json.Valid(line) || strings.ContainsAny(string(line), "\n\r") {
			t.Fatalf("not one valid JSON line: %q", line)
		}
		checkRecordJSON(t, &rec, line)
	})
}

// BenchmarkRecordJSON writes one classified record with its full
// posterior (the softmax of normal logits with standard deviation 2),
// as encoding/json's Encoder did ("encoding-json") and as AppendJSON does.
func BenchmarkRecordJSON(b *testing.B) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, k := range []int{10, 1000, 100000} {
		p := make([]float64, k)
		var sum float64
		for i := range p {
			p[i] = math.Exp(2 * r.NormFloat64())
			sum += p[i]
		}
		for i := range p {
			p[i] /= sum
		}
		rec := Record{Key: "in/cam-0/frame-000001.jpg", Class: "class-1", ClassIndex: 1, Posterior: p, MaxProb: 0.5,
			Margin: 0.25, Entropy: 3.5, EntropyNorm: 0.75, Sampler: "cp", Steps: 4, NFE: 4}
		b.Run(fmt.Sprintf("K=%d/encoding-json", k), func(b *testing.B) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			for b.Loop() {
				buf.Reset()
				if err := enc.Encode(rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/record")
		})
		b.Run(fmt.Sprintf("K=%d/append", k), func(b *testing.B) {
			var line []byte
			for b.Loop() {
				var err error
				if line, err = rec.AppendJSON(line[:0]); err != nil {
					b.Fatal(err)
				}
				line = append(line, '\n')
			}
			b.ReportMetric(float64(len(line)), "bytes/record")
		})
	}
}
