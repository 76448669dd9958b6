package jsonenc

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// marshal is encoding/json's bytes for v, the reference.
func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStringEscapesAsEncodingJSON(t *testing.T) {
	for _, tc := range []struct{ name, s string }{
		{"a plain key passes through", "in/cam-0/frame-000001.jpg"},
		{"quotes and backslashes are escaped", `a "quoted" \ name`},
		{"control characters use short or \\u00XX escapes", "\x00\x01\b\f\n\r\t\x1f\x7f"},
		{"HTML characters are escaped", "<script>&amp;</script>"},
		{"invalid UTF-8 becomes U+FFFD", "bad \xff\xfe byte, cut \xe2\x82"},
		{"line and paragraph separators are escaped", "a\u2028b\u2029c"},
		{"other non-ASCII passes through", "Zürich/東京/😀"},
		{"the empty string", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := string(String(nil, tc.s)), marshal(t, tc.s); got != want {
				t.Fatalf("String(%q) = %s, encoding/json writes %s", tc.s, got, want)
			}
		})
	}
}

func TestFloatsAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e-6, 9.99999e-7, 1e-7, 1e20, 1e21, 1e-300,
		5e-324, math.MaxFloat64, 0x1p-126, 1.0 / 3, 123456789.125}
	for range 20000 {
		values = append(values, math.Float64frombits(r.Uint64()), r.Float64()*math.Pow(10, float64(r.IntN(60)-50)))
	}
	for _, v := range values {
		if !Finite(v) {
			continue
		}
		if got, want := string(Float64(nil, v)), marshal(t, v); got != want {
			t.Fatalf("Float64(%v) = %s, encoding/json writes %s", v, got, want)
		}
		if f := float32(v); Finite(float64(f)) {
			if got, want := string(Float32(nil, f)), marshal(t, f); got != want {
				t.Fatalf("Float32(%v) = %s, encoding/json writes %s", f, got, want)
			}
		}
	}
}

func TestCompactFloat32IsTheSameNumberAndNeverLonger(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	values := []float32{0, 1, 1e-3, 0.00099999994, 1e-4, 1.2345678e-5, 1e-6, 1e-7, 1e-40, 1e21, math.MaxFloat32}
	for range 20000 {
		values = append(values, math.Float32frombits(r.Uint32()), float32(r.Float64()*math.Pow(10, float64(r.IntN(12)-10))))
	}
	for _, f := range values {
		if !Finite(float64(f)) {
			continue
		}
		for _, v := range []float32{f, -f} {
			got, std := CompactFloat32(nil, v), Float32(nil, v)
			back, err := strconv.ParseFloat(string(got), 32)
			if err != nil || float32(back) != v || len(got) > len(std) || !json.Valid(got) {
				t.Fatalf("CompactFloat32(%v) = %s (parses to %v, %v), Float32 writes %s", v, got, back, err, std)
			}
		}
	}
}

func TestFiniteRefusesNaNAndInfinities(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if Finite(v) {
			t.Errorf("Finite(%v) = true", v)
		}
	}
	if !Finite(math.MaxFloat64) || !Finite(-5e-324) {
		t.Error("Finite refuses a finite number")
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\u2028<&>", "\xff", "\x00\x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(String(nil, s)), marshal(t, s); got != want {
			t.Fatalf("String(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}

func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0, 1e-7, 1e21, 0x1p-126, 1.0 / 3} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		if !Finite(v) {
			t.Skip()
		}
		if got, want := string(Float64(nil, v)), marshal(t, v); got != want {
			t.Fatalf("Float64(%v) = %s, encoding/json writes %s", v, got, want)
		}
		f32 := math.Float32frombits(uint32(bits))
		if Finite(float64(f32)) {
			if got, want := string(Float32(nil, f32)), marshal(t, f32); got != want {
				t.Fatalf("Float32(%v) = %s, encoding/json writes %s", f32, got, want)
			}
		}
	})
}

// BenchmarkPosteriorValues writes a K=10⁵ posterior (the softmax of normal
// logits: sd 0.1, near uniform as from an unsure model, and sd 3) with
// each formatter, and with a fixed 7 significant digits for comparison.
func BenchmarkPosteriorValues(b *testing.B) {
	for _, sd := range []float64{0.1, 3} {
		r := rand.New(rand.NewPCG(1, 2))
		p := make([]float64, 100000)
		var sum float64
		for i := range p {
			p[i] = math.Exp(sd * r.NormFloat64())
			sum += p[i]
		}
		for i := range p {
			p[i] /= sum
		}
		for _, f := range []struct {
			name string
			fn   func([]byte, float64) []byte
		}{
			{"Float64", Float64},
			{"Float32", func(b []byte, v float64) []byte { return Float32(b, float32(v)) }},
			{"CompactFloat32", func(b []byte, v float64) []byte { return CompactFloat32(b, float32(v)) }},
			{"7-digits", func(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'e', 6, 64) }},
		} {
			b.Run(fmt.Sprintf("sd=%g/%s", sd, f.name), func(b *testing.B) {
				buf := make([]byte, 0, 3<<20)
				for b.Loop() {
					buf = buf[:0]
					for _, v := range p {
						buf = append(f.fn(buf, v), ',')
					}
				}
				b.ReportMetric(float64(len(buf))/float64(len(p)), "bytes/value")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(p)), "ns/value")
			})
		}
	}
}
