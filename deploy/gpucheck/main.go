// Command gpucheck runs the shipped DiDiRN with the CUDA execution provider
// and with the CPU on the same batch, compares the CP posteriors, times both,
// checks that SIGTERM still reaches Go after CUDA set-up, and prints a table.
// deploy/gpu-check.sh builds the environment it needs and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/didicm/didicm/internal/parity"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/sampler"
)

func main() {
	modelPath := flag.String("model", "models/didirn-mnist-7px-5pct.onnx", "score model")
	fixture := flag.String("parity", "models/didirn-mnist-7px-5pct.parity.json", "parity fixture (real inputs)")
	n := flag.Int("images", 512, "images per run")
	device := flag.Int("device", 0, "CUDA device")
	flag.Parse()
	if err := run(*modelPath, *fixture, *n, *device); err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
}

func run(modelPath, fixture string, n, device int) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	cpu, err := ort.Open(modelPath, ort.Config{}, nil)
	if err != nil {
		return err
	}
	defer cpu.Close()
	gpu, err := ort.Open(modelPath, ort.Config{Provider: "cuda", DeviceID: device}, nil)
	if err != nil {
		return err
	}
	defer gpu.Close()
	images, err := inputs(fixture, n, cpu.Metadata().InputSize())
	if err != nil {
		return err
	}
	ctx := context.Background()
	fmt.Printf("onnxruntime %s, model %s (K=%d), %d images\n\n", ortVersionOf(cpu), modelPath, cpu.NumClasses(), n)
	fmt.Printf("%-6s %-5s %6s %12s %12s\n", "device", "T", "batch", "images/s", "max|Δp|")
	for _, steps := range []int{2, 8} {
		for _, batch := range []int{64, 256} {
			cp := sampler.CP{Steps: steps, MicroBatch: batch}
			want, tc, err := timed(ctx, cp, cpu, images)
			if err != nil {
				return err
			}
			got, tg, err := timed(ctx, cp, gpu, images)
			if err != nil {
				return err
			}
			var d float64
			for i := range want {
				for k := range want[i].Posterior {
					d = max(d, math.Abs(want[i].Posterior[k]-got[i].Posterior[k]))
				}
			}
			fmt.Printf("%-6s %-5d %6d %12.0f %12s\n", "cpu", steps, batch, float64(n)/tc.Seconds(), "-")
			fmt.Printf("%-6s %-5d %6d %12.0f %12.2e\n", "cuda", steps, batch, float64(n)/tg.Seconds(), d)
			if d > 1e-3 {
				return fmt.Errorf("cuda posteriors differ from the cpu ones by %g (limit 1e-3)", d)
			}
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-sigs:
		fmt.Println("\nSIGTERM after CUDA set-up reached Go's handler: graceful shutdown works")
	case <-time.After(5 * time.Second):
		return fmt.Errorf("SIGTERM did not reach Go's handler")
	}
	return nil
}

func timed(ctx context.Context, cp sampler.CP, m *ort.Model, images [][]float32) ([]sampler.Result, time.Duration, error) {
	if _, err := cp.Run(ctx, m, images[:min(len(images), cp.MicroBatch)]); err != nil { // warm-up
		return nil, 0, err
	}
	start := time.Now()
	res, err := cp.Run(ctx, m, images)
	return res, time.Since(start), err
}

// inputs repeats the fixture's real images, with small seeded noise so the
// batch is not n copies of a few images.
func inputs(path string, n, size int) ([][]float32, error) {
	fx, err := parity.Load(path)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]float32, n)
	for i := range out {
		src := fx.Images[i%len(fx.Images)]
		if len(src) != size {
			return nil, fmt.Errorf("fixture image has %d values, model takes %d", len(src), size)
		}
		out[i] = make([]float32, size)
		for j, v := range src {
			out[i][j] = v + float32(rng.NormFloat64()*0.05)
		}
	}
	return out, nil
}

func ortVersionOf(m *ort.Model) string {
	_, v, _ := m.Identity()
	return v
}
