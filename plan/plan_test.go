package plan

import (
	"errors"
	"strings"
	"testing"
)

func TestSmallKChoosesCPWithFullMicroBatch(t *testing.T) {
	p, err := Decide(Request{NumClasses: 10, Images: 64, Budget: 2 << 30, ActivationBytes: 200 << 10, InputBytes: 3136})
	if err != nil {
		t.Fatal(err)
	}
	if p.Sampler != "cp" || p.MicroBatch != 64 || p.NFE != 2 {
		t.Fatalf("plan %+v", p)
	}
}

func TestHugeKRefusesDenseAndUsesRankOne(t *testing.T) {
	p, err := Decide(Request{NumClasses: 100_000, Images: 64, Budget: 2 << 30, ActivationBytes: 4 << 20, InputBytes: 3 * 224 * 224 * 4})
	if err != nil {
		t.Fatal(err)
	}
	dense := p.Costs[1]
	if dense.Fits || dense.BytesPerImage < 8*100_000*100_000 {
		t.Fatalf("dense CP at K=1e5 should be refused: %+v", dense)
	}
	if p.Sampler != "cp" || p.MicroBatch < 1 {
		t.Fatalf("plan %+v", p)
	}
	if !strings.Contains(p.String(), "refused") {
		t.Fatalf("report does not say dense was refused:\n%s", p)
	}
}

func TestBytesPerImageGrowLinearlyForRankOneAndQuadraticallyForDense(t *testing.T) {
	at := func(k int) []Cost { return Costs(Request{NumClasses: k, ActivationBytes: 1, InputBytes: 4}) }
	a, b := at(1000), at(10000)
	if r := float64(b[0].BytesPerImage) / float64(a[0].BytesPerImage); r < 9 || r > 11 {
		t.Fatalf("rank-one CP grew %.1fx for 10x K", r)
	}
	if r := float64(b[1].BytesPerImage) / float64(a[1].BytesPerImage); r < 90 {
		t.Fatalf("dense CP grew %.1fx for 10x K", r)
	}
}

func TestAutoNeverPicksCLBecauseRankOneCPIsSmallerPerImage(t *testing.T) {
	// With the rank-one update, CP's state per image is its posterior; CL holds the
	// same posterior plus 32N bytes of chain state, and N times the model calls.
	for _, k := range []int{2, 10, 1000, 100_000, 10_000_000} {
		c := Costs(Request{NumClasses: k, Chains: 16})
		if c[2].BytesPerImage <= c[0].BytesPerImage {
			t.Fatalf("K=%d: cl %d bytes/image <= cp %d", k, c[2].BytesPerImage, c[0].BytesPerImage)
		}
		r := Request{NumClasses: k, Budget: c[0].BytesPerImage + c[0].Fixed}
		if p, err := Decide(r); err != nil || p.Sampler != "cp" {
			t.Fatalf("K=%d at CP's bare minimum budget: %+v %v", k, p, err)
		}
	}
}

func TestForcedAndImpossiblePlans(t *testing.T) {
	p, err := Decide(Request{NumClasses: 10, Force: "cl"})
	if err != nil || p.Sampler != "cl" || p.NFE != 32 {
		t.Fatalf("forced cl: %+v %v", p, err)
	}
	if _, err := Decide(Request{NumClasses: 10, Budget: 1000}); !errors.Is(err, ErrNoFit) {
		t.Fatalf("tiny budget: %v", err)
	}
	if _, err := Decide(Request{NumClasses: 10, Force: "dense"}); err == nil || !strings.Contains(err.Error(), `"dense"`) {
		t.Fatalf("bad force: %v", err)
	}
	if _, err := Decide(Request{NumClasses: 1}); err == nil {
		t.Fatal("K=1 accepted")
	}
}

func TestBytes(t *testing.T) {
	for in, want := range map[int64]string{512: "512 B", 2048: "2.0 KiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(in); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", in, got, want)
		}
	}
}
