package ort

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/didicm/didicm/internal/parity"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/sampler"
)

// TestMain loads the library once. A missing library fails the package
// unless DIDICM_SKIP_ORT=1 says to skip.
func TestMain(m *testing.M) {
	if os.Getenv("DIDICM_TEST_MISSING_LIB") != "" {
		os.Exit(m.Run()) // subprocess of TestMissingLibraryIsNamed
	}
	if _, _, err := LoadLibrary("", nil); err != nil {
		if os.Getenv("DIDICM_SKIP_ORT") == "1" {
			fmt.Println("skipping ort tests (DIDICM_SKIP_ORT=1):", err)
			os.Exit(0)
		}
		fmt.Println(err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func open(t *testing.T, path string) *Model {
	t.Helper()
	m, err := Open(path, Config{IntraOpThreads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func loadFixture(t *testing.T, path string) *parity.Fixture {
	t.Helper()
	fx, err := parity.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

var scoreFixtures = []string{"../testdata/score-k10", "../testdata/score-k1000", "../models/didirn-mnist-7px-5pct"}

func TestLogScoresMatchPyTorch(t *testing.T) {
	for _, base := range scoreFixtures {
		m, fx := open(t, base+".onnx"), loadFixture(t, base+".parity.json")
		k := m.NumClasses()
		for _, call := range fx.Calls {
			out := make([]float32, len(fx.Images)*k)
			if err := m.LogScores(context.Background(), fx.Images, call.Label, call.Sigma, out); err != nil {
				t.Fatal(err)
			}
			var d float64
			for b := range fx.Images {
				for i := range k {
					d = max(d, math.Abs(float64(out[b*k+i]-call.LogScore[b][i])))
				}
				if out[b*k+int(call.Label[b])] != 0 {
					t.Errorf("%s: entry at the label is %v, the graph must zero it", base, out[b*k+int(call.Label[b])])
				}
			}
			if d > 1e-4 {
				t.Errorf("%s: ONNX Runtime log-scores differ from PyTorch by %g (limit 1e-4)", base, d)
			}
		}
	}
}

func TestCPOnONNXRuntimeMatchesTheReference(t *testing.T) {
	for _, base := range scoreFixtures {
		m, fx := open(t, base+".onnx"), loadFixture(t, base+".parity.json")
		for _, run := range fx.CP {
			res, err := sampler.CP{Steps: run.Steps, Clamp: fixtureClamp(run)}.Run(context.Background(), m, fx.Images)
			if err != nil {
				t.Fatal(err)
			}
			for b, r := range res {
				var d float64
				for i, v := range r.Posterior {
					d = max(d, math.Abs(v-run.Posterior[b][i]))
				}
				if d > 1e-4 {
					t.Errorf("%s T=%d image %d: posterior differs from PyTorch's by %g", base, run.Steps, b, d)
				}
			}
		}
	}
}

func TestShippedBaselineLogitsMatchPyTorch(t *testing.T) {
	base := "../models/ce-mnist-7px-5pct"
	m, fx := open(t, base+".onnx"), loadFixture(t, base+".parity.json")
	if m.Metadata().Kind != modelmeta.Classifier || len(fx.Logits) == 0 {
		t.Fatalf("kind %s, %d fixture rows", m.Metadata().Kind, len(fx.Logits))
	}
	k := m.NumClasses()
	out := make([]float32, len(fx.Images)*k)
	if err := m.Logits(context.Background(), fx.Images, out); err != nil {
		t.Fatal(err)
	}
	for b := range fx.Images {
		for i := range k {
			if d := math.Abs(float64(out[b*k+i] - fx.Logits[b][i])); d > 1e-4 {
				t.Fatalf("image %d class %d: logit differs from PyTorch by %g", b, i, d)
			}
		}
	}
}

func TestBatchSizeAndConcurrencyDoNotChangeResults(t *testing.T) {
	m, fx := open(t, scoreFixtures[0]+".onnx"), loadFixture(t, scoreFixtures[0]+".parity.json")
	k, call := m.NumClasses(), fx.Calls[0]
	want := make([]float32, len(fx.Images)*k)
	if err := m.LogScores(context.Background(), fx.Images, call.Label, call.Sigma, want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(fx.Images))
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range fx.Images { // one image per call: batch 1
				out := make([]float32, k)
				if err := m.LogScores(context.Background(), fx.Images[b:b+1], call.Label[b:b+1], call.Sigma[b:b+1], out); err != nil {
					errs <- err
					return
				}
				for i := range k {
					if math.Abs(float64(out[i]-want[b*k+i])) > 1e-5 {
						errs <- fmt.Errorf("image %d class %d: batch 1 gave %v, batch %d gave %v", b, i, out[i], len(fx.Images), want[b*k+i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestContractViolationsAreNamed(t *testing.T) {
	tests := []struct{ file, want string }{
		{"missing-num-classes", "didicm.num_classes: missing"},
		{"class-names-mismatch", "2 names for num_classes 4"},
		{"wrong-input-name", `input 0 is named "pixels", want "image"`},
		{"label-is-float", `input "label" has type`},
		{"fixed-batch", "fixed batch axis"},
		{"k-mismatch", `output "log_score" has shape [-1 5], want [-1 4]`},
		{"future-format", "this build reads version 1"},
		{"not-onnx", "not a loadable ONNX model"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Open("../testdata/bad/"+tt.file+".onnx", Config{}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := Open("../testdata/bad/valid.onnx", Config{}, nil); err != nil {
		t.Fatalf("the valid tiny model: %v", err)
	}
	if _, err := Open("../testdata/nope.onnx", Config{}, nil); err == nil || !strings.Contains(err.Error(), "nope.onnx") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestBadSessionSettingsAreNamed(t *testing.T) {
	for _, cfg := range []Config{{Provider: "tpu"}, {GraphOptimization: "max"}, {Memory: "none"}} {
		_, err := Open(scoreFixtures[0]+".onnx", cfg, nil)
		if err == nil || !strings.Contains(err.Error(), `"tpu"`) && !strings.Contains(err.Error(), `"max"`) &&
			!strings.Contains(err.Error(), `"none"`) {
			t.Fatalf("%+v: %v", cfg, err)
		}
	}
}

func TestCUDAWithoutFallbackFailsWithTheReason(t *testing.T) {
	// The CPU-only library has no CUDA provider, so this machine shows the failure path.
	_, err := Open(scoreFixtures[0]+".onnx", Config{Provider: "cuda"}, nil)
	if err == nil {
		t.Skip("CUDA is available here; the GPU check script covers it")
	}
	if !strings.Contains(err.Error(), "cuda execution provider") {
		t.Fatalf("error %v does not name the cuda provider", err)
	}
	m, err := Open(scoreFixtures[0]+".onnx", Config{Provider: "cuda", AllowCPUFallback: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.provider != "cpu" {
		t.Fatalf("provider %q after fallback, want cpu", m.provider)
	}
}

func TestWrongKindCalls(t *testing.T) {
	m := open(t, scoreFixtures[0]+".onnx")
	if err := m.Logits(context.Background(), nil, nil); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("Logits on a score model: %v", err)
	}
	if m.Metadata().Kind != modelmeta.Score || len(m.sha256) != 64 {
		t.Fatalf("kind %q sha %q", m.Metadata().Kind, m.sha256)
	}
}

func TestSignalGuardRestoresGoHandlers(t *testing.T) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	defer signal.Stop(ch)
	if n := guardSignals(true, clobberSIGTERM); n != 1 {
		t.Fatalf("restored %d handlers, want 1", n)
	}
	// Were SIGTERM still SIG_DFL, this would end the test binary.
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := <-ch; got != syscall.SIGTERM {
		t.Fatalf("got %v", got)
	}
}

func TestMissingLibraryIsNamed(t *testing.T) {
	if os.Getenv("DIDICM_TEST_MISSING_LIB") != "" {
		_, _, err := LoadLibrary("/nonexistent/libonnxruntime.so.1", nil)
		fmt.Println("ERR:", err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMissingLibraryIsNamed$")
	cmd.Env = append(os.Environ(), "DIDICM_TEST_MISSING_LIB=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(string(out), "onnxruntime library: not found (looked in /nonexistent/libonnxruntime.so.1)") ||
		!strings.Contains(string(out), "ONNXRUNTIME_LIB") {
		t.Fatalf("message does not name the problem and the fix: %s", out)
	}
}

func TestMemorySettingsGiveTheSameScores(t *testing.T) {
	fx := loadFixture(t, scoreFixtures[1]+".parity.json")
	call := fx.Calls[0]
	var want []float32
	for _, mem := range []string{"", "arena", "no-pattern", "malloc"} {
		m, err := Open(scoreFixtures[1]+".onnx", Config{IntraOpThreads: 1, Memory: mem}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, len(fx.Images)*m.NumClasses())
		err = m.LogScores(context.Background(), fx.Images, call.Label, call.Sigma, out)
		m.Close()
		if err != nil {
			t.Fatal(mem, err)
		}
		if want == nil {
			want = out
			continue
		}
		for i := range out {
			if out[i] != want[i] {
				t.Fatalf("memory %q: score %d is %v, the default gives %v", mem, i, out[i], want[i])
			}
		}
	}
}

func fixtureClamp(r parity.CPRun) sampler.Clamp { return sampler.Clamp(parity.ClampOf(r)) }
