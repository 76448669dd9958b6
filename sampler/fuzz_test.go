package sampler_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/sampler"
)

// FuzzSamplers feeds arbitrary log-scores (NaN, ±Inf, huge, ties) and class
// counts to both samplers: every image must end as a distribution or as
// ErrNonFinite, never as a panic or a NaN posterior.
func FuzzSamplers(f *testing.F) {
	f.Add(uint8(0), uint8(2), []byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f})
	f.Add(uint8(8), uint8(1), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add(uint8(1), uint8(3), []byte{0, 0, 0x80, 0xff})
	f.Fuzz(func(t *testing.T, kk, steps uint8, raw []byte) {
		k := 2 + int(kk)%63
		row := make([]float32, k)
		for i := range row {
			if 4*i+4 <= len(raw) {
				row[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		}
		for _, s := range []interface {
			Run(context.Context, sampler.Scorer, [][]float32) ([]sampler.Result, error)
		}{
			sampler.CP{Steps: 1 + int(steps)%8},
			sampler.CL{Steps: 1 + int(steps)%4, Chains: 3, Rand: rand.New(rand.NewPCG(uint64(len(raw)), 1))},
		} {
			res, err := s.Run(context.Background(), fixed{row}, imagesFor(2))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					if !errors.Is(r.Err, sampler.ErrNonFinite) {
						t.Fatalf("unexpected error %v", r.Err)
					}
					continue
				}
				checkDistribution(t, r)
			}
		}
	})
}
