package sampler_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/didicm/didicm/internal/parity"
	"github.com/didicm/didicm/sampler"
)

// replay is a Scorer that returns the log-scores the Python reference sampler
// recorded, and fails the test if the Go sampler asks for another column or
// noise level than the reference did.
type replay struct {
	t     *testing.T
	k     int
	steps []parity.Step
	call  int
}

func (r *replay) NumClasses() int { return r.k }

func (r *replay) LogScores(_ context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	r.t.Helper()
	if r.call >= len(r.steps) {
		r.t.Fatalf("call %d: the reference made only %d calls", r.call, len(r.steps))
	}
	st := r.steps[r.call]
	r.call++
	for b := range images {
		if labels[b] != st.Label[b] {
			r.t.Fatalf("call %d image %d: column %d, reference used %d", r.call, b, labels[b], st.Label[b])
		}
		if math.Abs(float64(sigmas[b]-st.Sigma)) > 1e-6*float64(st.Sigma) {
			r.t.Fatalf("call %d: sigma %v, reference %v", r.call, sigmas[b], st.Sigma)
		}
		copy(out[b*r.k:(b+1)*r.k], st.LogScore[b])
	}
	return nil
}

func TestCPMatchesThePythonReference(t *testing.T) {
	for _, path := range []string{"../testdata/score-k10.parity.json", "../testdata/score-k1000.parity.json",
		"../models/didirn-mnist-7px-5pct.parity.json"} {
		fx, err := parity.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range fx.CP {
			rp := &replay{t: t, k: fx.NumClasses, steps: run.Trace}
			res, err := sampler.CP{Steps: run.Steps, MicroBatch: len(fx.Images), Clamp: fixtureClamp(run)}.Run(context.Background(), rp, fx.Images)
			if err != nil {
				t.Fatal(err)
			}
			if rp.call != run.Steps {
				t.Fatalf("%s T=%d: %d model calls, want %d", path, run.Steps, rp.call, run.Steps)
			}
			for b, r := range res {
				if d := maxAbsDiff(r.Posterior, run.Posterior[b]); d > 1e-5 {
					t.Errorf("%s T=%d image %d: posterior differs from the reference by %g", path, run.Steps, b, d)
				}
			}
		}
	}
}

func maxAbsDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// exact is a Scorer whose log-scores come from the true forward marginals of
// a known posterior per image: the samplers should recover it.
type exact struct{ post [][]float64 }

func (e exact) NumClasses() int { return len(e.post[0]) }

func (e exact) LogScores(_ context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	k := e.NumClasses()
	for b := range images {
		p0 := e.post[int(images[b][0])]
		decay := math.Exp(-float64(sigmas[b]))
		pt := func(i int) float64 { return decay*p0[i] + (1-decay)/float64(k) }
		for i := range k {
			out[b*k+i] = float32(math.Log(pt(i) / pt(int(labels[b]))))
		}
	}
	return nil
}

// imagesFor returns one "image" per posterior, carrying its index.
func imagesFor(n int) [][]float32 {
	im := make([][]float32, n)
	for i := range im {
		im[i] = []float32{float32(i)}
	}
	return im
}

var posteriors = [][]float64{{0.7, 0.2, 0.05, 0.05}, {0.25, 0.25, 0.25, 0.25}, {0.01, 0.01, 0.01, 0.97}}

func TestCPWithExactScoresRecoversThePosterior(t *testing.T) {
	res, err := sampler.CP{Steps: 64, MicroBatch: 2}.Run(context.Background(), exact{posteriors}, imagesFor(3))
	if err != nil {
		t.Fatal(err)
	}
	for b, r := range res {
		if d := maxAbsDiff(r.Posterior, posteriors[b]); d > 0.03 {
			t.Errorf("image %d: posterior %v, want about %v", b, r.Posterior, posteriors[b])
		}
		if r.NFE != 64 || !math.IsNaN(r.Agreement) {
			t.Errorf("image %d: NFE %d agreement %v", b, r.NFE, r.Agreement)
		}
	}
	if res[2].Class != 3 || res[0].Class != 0 {
		t.Errorf("classes %d, %d; want 0, 3", res[0].Class, res[2].Class)
	}
}

func TestRankOneStepEqualsTheDenseOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, clamp := range []sampler.Clamp{sampler.ClampPaper, sampler.ClampNegatives} {
		for _, k := range []int{2, 3, 10, 50} {
			for _, h := range []float64{1e-3, 0.5, 2, 500} {
				p, q := randDist(rng, k), randDist(rng, k)
				a, b := append([]float64(nil), p...), append([]float64(nil), p...)
				okA, okB := sampler.StepRankOne(a, q, h, clamp), sampler.StepDense(b, q, h, clamp)
				if !okA || !okB {
					t.Fatalf("K=%d h=%g: step failed (%v, %v)", k, h, okA, okB)
				}
				for i := range a {
					if math.Abs(a[i]-b[i]) > 1e-9*math.Max(1e-3, math.Abs(b[i])) {
						t.Fatalf("%s K=%d h=%g: entry %d rank-one %v, dense %v", clamp, k, h, i, a[i], b[i])
					}
				}
			}
		}
	}
}

func TestCPClampsMatchThePythonReference(t *testing.T) {
	var cases []struct {
		K         int
		H         float64
		P, Q      []float64
		Paper     []float64 `json:"paper"`
		Negatives []float64 `json:"negatives"`
	}
	data, err := os.ReadFile("../testdata/clamp-parity.json") // training/scripts/clamp-parity.py
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for clamp, want := range map[sampler.Clamp][]float64{sampler.ClampPaper: c.Paper, sampler.ClampNegatives: c.Negatives} {
			p := append([]float64(nil), c.P...)
			if !sampler.StepRankOne(p, c.Q, c.H, clamp) {
				t.Fatalf("%s K=%d h=%g: step failed", clamp, c.K, c.H)
			}
			for i := range p {
				if math.Abs(p[i]-want[i]) > 1e-9 {
					t.Fatalf("%s K=%d h=%g: entry %d Go %v, Python %v", clamp, c.K, c.H, i, p[i], want[i])
				}
			}
		}
		if c.H > 100 && slices.Equal(c.Paper, c.Negatives) {
			t.Fatalf("K=%d h=%g: the two clamps agree where the upper clip must bite", c.K, c.H)
		}
	}
}

func randDist(rng *rand.Rand, k int) []float64 {
	p := make([]float64, k)
	var s float64
	for i := range p {
		p[i] = rng.Float64() + 1e-3
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

func TestCLIsReproducibleAndApproachesCP(t *testing.T) {
	run := func(seed uint64) []sampler.Result {
		res, err := sampler.CL{Steps: 8, Chains: 4000, MicroBatch: 3000, Rand: rand.New(rand.NewPCG(seed, 9))}.
			Run(context.Background(), exact{posteriors}, imagesFor(3))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := run(1), run(1), run(2)
	cp, err := sampler.CP{Steps: 8}.Run(context.Background(), exact{posteriors}, imagesFor(3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if maxAbsDiff(a[i].Posterior, b[i].Posterior) != 0 {
			t.Fatalf("image %d: the same seed gave %v and %v", i, a[i].Posterior, b[i].Posterior)
		}
		if d := maxAbsDiff(a[i].Posterior, cp[i].Posterior); d > 0.04 {
			t.Errorf("image %d: CL %v is %g from CP %v", i, a[i].Posterior, d, cp[i].Posterior)
		}
		if a[i].NFE != 8*4000 || a[i].Agreement != a[i].MaxProb {
			t.Errorf("image %d: NFE %d, agreement %v vs max prob %v", i, a[i].NFE, a[i].Agreement, a[i].MaxProb)
		}
	}
	if maxAbsDiff(a[0].Posterior, c[0].Posterior) == 0 {
		t.Error("different seeds gave identical posteriors")
	}
}

// fixed is a Scorer that returns the same log-scores row for every call,
// overwritten with 0 at the conditioning label.
type fixed struct{ row []float32 }

func (f fixed) NumClasses() int { return len(f.row) }

func (f fixed) LogScores(_ context.Context, images [][]float32, labels []int64, _ []float32, out []float32) error {
	k := len(f.row)
	for b := range images {
		copy(out[b*k:], f.row)
		out[b*k+int(labels[b])] = 0
	}
	return nil
}

func TestNumericalGuards(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		name    string
		row     []float32
		wantErr bool
	}{
		{"NaN log-scores give a per-image error", []float32{0, nan, 1}, true},
		{"+Inf log-scores are bounded and give a distribution", []float32{0, inf, 1}, false},
		{"-Inf log-scores are bounded and give a distribution", []float32{-inf, 0, 1}, false},
		{"K=2 works", []float32{0, 3}, false},
		{"all-equal scores keep the uniform posterior", []float32{0, 0, 0, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range []interface {
				Run(context.Context, sampler.Scorer, [][]float32) ([]sampler.Result, error)
			}{sampler.CP{Steps: 4}, sampler.CL{Steps: 2, Chains: 8}} {
				res, err := s.Run(context.Background(), fixed{tt.row}, imagesFor(2))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					if tt.wantErr {
						if !errors.Is(r.Err, sampler.ErrNonFinite) {
							t.Fatalf("%T: err %v, want ErrNonFinite", s, r.Err)
						}
						continue
					}
					checkDistribution(t, r)
				}
			}
		})
	}
}

func checkDistribution(t *testing.T, r sampler.Result) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("unexpected error %v", r.Err)
	}
	var s float64
	for _, v := range r.Posterior {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("posterior entry %v", v)
		}
		s += v
	}
	if math.Abs(s-1) > 1e-9 || r.Posterior[r.Class] != r.MaxProb || r.Margin < 0 || r.EntropyNorm < -1e-12 || r.EntropyNorm > 1+1e-9 {
		t.Fatalf("not a summarized distribution: %+v", r)
	}
}

func TestTiesPickTheLowestIndex(t *testing.T) {
	r := sampler.Softmax([]float32{1, 3, 3, 0})
	if r.Class != 1 || r.Margin != 0 {
		t.Fatalf("class %d margin %v; want 1, 0", r.Class, r.Margin)
	}
	res, err := sampler.CP{Steps: 1}.Run(context.Background(), fixed{[]float32{0, 0, 0}}, imagesFor(1))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Class != 0 || math.Abs(res[0].EntropyNorm-1) > 1e-12 {
		t.Fatalf("uniform posterior: class %d, normalised entropy %v; want 0, 1", res[0].Class, res[0].EntropyNorm)
	}
}

func TestSchedule(t *testing.T) {
	ts, dt := sampler.Times(4)
	want := []float64{1, 1 - (1-1e-5)/3, 1 - 2*(1-1e-5)/3, 1e-5}
	if maxAbsDiff(ts, want) > 1e-15 || dt != (1-1e-5)/4 {
		t.Fatalf("Times(4) = %v, %v", ts, dt)
	}
	if got := sampler.Sigma(0.5); math.Abs(got+math.Log(1-0.999*0.5)) > 1e-15 {
		t.Fatalf("Sigma(0.5) = %v", got)
	}
	if got := sampler.SigmaRate(1); math.Abs(got-0.999/0.001) > 1e-9 {
		t.Fatalf("SigmaRate(1) = %v", got)
	}
}

func TestCancelledContextStopsBetweenCalls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (sampler.CP{Steps: 2}).Run(ctx, fixed{[]float32{0, 1}}, imagesFor(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestCLRowChunksSmallerThanChainsGiveTheSameResult(t *testing.T) {
	run := func(rows int) []sampler.Result {
		res, err := sampler.CL{Steps: 3, Chains: 16, MicroBatch: rows, Rand: rand.New(rand.NewPCG(5, 5))}.
			Run(context.Background(), exact{posteriors}, imagesFor(3))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(48), run(5)
	for i := range a {
		if maxAbsDiff(a[i].Posterior, b[i].Posterior) != 0 {
			t.Fatalf("image %d: rows 48 gave %v, rows 5 gave %v", i, a[i].Posterior, b[i].Posterior)
		}
	}
}

func TestAnExactTieAtTheTopIsMaximallyUncertain(t *testing.T) {
	tied := sampler.Result{Posterior: []float64{0.45, 0.45, 0.1}}
	tied.Summarize()
	if tied.EntropyNorm != 1 {
		t.Fatalf("tie at the top: entropy_norm %v, want 1", tied.EntropyNorm)
	}
	clear := sampler.Result{Posterior: []float64{0.46, 0.44, 0.1}}
	clear.Summarize()
	if clear.EntropyNorm >= 1 || clear.Class != 0 {
		t.Fatalf("no tie: entropy_norm %v class %d", clear.EntropyNorm, clear.Class)
	}
}

// rowCounter counts the rows the sampler asks the model for.
type rowCounter struct {
	exact
	rows int
}

func (r *rowCounter) LogScores(ctx context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	r.rows += len(images)
	return r.exact.LogScores(ctx, images, labels, sigmas, out)
}

func TestAdaptiveStepsStopSettledImagesAndSaveCalls(t *testing.T) {
	full, err := sampler.CP{Steps: 64}.Run(context.Background(), exact{posteriors}, imagesFor(3))
	if err != nil {
		t.Fatal(err)
	}
	sc := &rowCounter{exact: exact{posteriors}}
	res, err := sampler.CP{Steps: 64, Settle: 1e-3}.Run(context.Background(), sc, imagesFor(3))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for b, r := range res {
		calls += r.NFE
		if d := maxAbsDiff(r.Posterior, full[b].Posterior); d > 0.02 {
			t.Errorf("image %d: settled at %v, the full run gives %v", b, r.Posterior, full[b].Posterior)
		}
		if r.Class != full[b].Class {
			t.Errorf("image %d: class %d, the full run %d", b, r.Class, full[b].Class)
		}
	}
	if res[1].NFE != 1 { // the uniform posterior never moves
		t.Errorf("the uniform image made %d calls, want 1", res[1].NFE)
	}
	if calls != sc.rows || calls >= 3*64 {
		t.Fatalf("%d calls recorded, %d rows asked, of %d without settling", calls, sc.rows, 3*64)
	}
	t.Logf("model rows: %d with settle 1e-3, %d without", calls, 3*64)
}

func fixtureClamp(r parity.CPRun) sampler.Clamp { return sampler.Clamp(parity.ClampOf(r)) }
