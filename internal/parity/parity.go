// Package parity reads the parity fixtures that the Python export writes next
// to a model (MODEL.parity.json): inputs with PyTorch's outputs and the CP
// posteriors of the reference sampler, with every model call it made.
package parity

import (
	"encoding/json"
	"fmt"
	"os"
)

// Fixture is one MODEL.parity.json.
type Fixture struct {
	FormatVersion string      `json:"format_version"`
	Kind          string      `json:"kind"`
	NumClasses    int         `json:"num_classes"`
	Shape         []int       `json:"shape"`
	Images        [][]float32 `json:"images"`
	Calls         []Call      `json:"calls"`
	CP            []CPRun     `json:"cp"`
	Logits        [][]float32 `json:"logits"`
}

// Call is one batched model call on all fixture images.
type Call struct {
	Label    []int64     `json:"label"`
	Sigma    []float32   `json:"sigma"`
	LogScore [][]float32 `json:"log_score"`
}

// CPRun is the reference CP sampler at one step count.
type CPRun struct {
	Steps int `json:"steps"`
	// Clamp is the CP clamp the reference ran with; fixtures from before it
	// was recorded ran with "paper".
	Clamp     string      `json:"clamp"`
	Posterior [][]float64 `json:"posterior"`
	Trace     []Step      `json:"trace"`
}

// Step is one CP step's model call: one label per image and a shared sigma.
type Step struct {
	Label    []int64     `json:"label"`
	Sigma    float32     `json:"sigma"`
	LogScore [][]float32 `json:"log_score"`
}

// Load reads a fixture file.
func Load(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read parity fixture: %w", err)
	}
	var f Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse parity fixture %q: %w", path, err)
	}
	return &f, nil
}

// ClampOf is the clamp a reference run used: fixtures from before the clamp
// was recorded ran with "paper".
func ClampOf(r CPRun) string {
	if r.Clamp == "" {
		return "paper"
	}
	return r.Clamp
}
