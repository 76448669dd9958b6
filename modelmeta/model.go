// Package model describes a DiDiRN ONNX file as the rest of the system sees
// it: the metadata contract that the Python export writes under the
// "didicm." prefix, parsed and validated without loading ONNX Runtime.
package modelmeta

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/sampler"
)

// Prefix is the metadata_props key prefix.
const Prefix = "didicm."

// FormatVersion is the contract version this code reads.
const FormatVersion = "1"

// Kind is what a model computes.
type Kind string

const (
	// Score is DiDiRN: (image, label, sigma) → log_score.
	Score Kind = "score"
	// Classifier is the cross-entropy baseline: image → logits.
	Classifier Kind = "classifier"
)

// Degradation is what the model was trained for.
type Degradation struct {
	// Kind is "lowres" or "none".
	Kind string `json:"kind"`
	// Resolution is r for "lowres": area down-sample to r×r, bilinear back up.
	Resolution int `json:"resolution,omitempty"`
}

// Metadata is the validated contents of a model's didicm.* metadata.
type Metadata struct {
	Kind                    Kind
	Layout                  string
	ClassNames              []string
	Channels, Height, Width int
	// ColorMode is "gray" (1 channel) or "rgb" (3).
	ColorMode     string
	Mean, Std     []float32
	Schedule      string
	ScheduleEps   float64
	Degradation   Degradation
	DataFraction  float64
	Training      json.RawMessage
	FormatVersion string
	// RecommendedSteps and MinSteps are the export's advice on T for a score
	// model (didicm.recommended_steps, didicm.min_steps; optional, 0 when
	// absent): the sampler's default, and the least T that gives its
	// measured accuracy (its model card says which).
	RecommendedSteps, MinSteps int
	// Intensity maps grey DICOM values to [0, 1] for this model
	// (didicm.intensity, optional JSON). The training toolkit writes it
	// when the model was trained on DICOM files (the transform it read them
	// with) or given one (train --intensity); a model without it was
	// trained on other images and gets imaging.DefaultIntensity, "bits",
	// which reads a grey DICOM as a PNG of the same samples is read.
	Intensity imaging.Intensity
	// ClassCodes code the classes for DICOM structured reports
	// (didicm.class_codes, optional): nil when the model declares none,
	// else K entries in class-index order, nil for a class without a code.
	ClassCodes []*ClassCode
	// Name and Version name the model in reports (didicm.model_name and
	// didicm.model_version, optional; empty when absent).
	Name, Version string
}

// NumClasses is K.
func (m *Metadata) NumClasses() int { return len(m.ClassNames) }

// InputSize is C·H·W, the float32 values of one preprocessed image.
func (m *Metadata) InputSize() int { return m.Channels * m.Height * m.Width }

// Error names the metadata key that is wrong.
type Error struct {
	Key, Value, Problem string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("model metadata %s%s: %s", Prefix, e.Key, e.Problem)
	}
	return fmt.Sprintf("model metadata %s%s = %q: %s", Prefix, e.Key, e.Value, e.Problem)
}

// Parse reads and validates the didicm.* entries of props (full keys).
func Parse(props map[string]string) (*Metadata, error) {
	p := parser{props: props}
	m := &Metadata{
		FormatVersion: p.str("format_version"),
		Kind:          Kind(p.str("kind")),
		Layout:        p.str("layout"),
		Channels:      p.int("input_channels"),
		Height:        p.int("input_height"),
		Width:         p.int("input_width"),
		ColorMode:     p.str("color_mode"),
		Schedule:      p.str("schedule"),
		ScheduleEps:   p.float("schedule_eps"),
		DataFraction:  p.float("data_fraction"),
		Training:      json.RawMessage(p.str("training")),
	}
	m.Intensity = imaging.DefaultIntensity
	if _, ok := props[Prefix+"intensity"]; ok {
		p.json("intensity", &m.Intensity)
	}
	m.RecommendedSteps = p.optionalInt("recommended_steps")
	m.MinSteps = p.optionalInt("min_steps")
	m.Name, m.Version = p.props[Prefix+"model_name"], p.props[Prefix+"model_version"]
	k := p.int("num_classes")
	p.json("class_names", &m.ClassNames)
	p.json("norm_mean", &m.Mean)
	p.json("norm_std", &m.Std)
	p.json("degradation", &m.Degradation)
	m.ClassCodes = p.classCodes(k)
	if p.err != nil {
		return nil, p.err
	}
	checks := []struct {
		ok       bool
		key, why string
	}{
		{m.FormatVersion == FormatVersion, "format_version", "this build reads version " + FormatVersion},
		{m.Kind == Score || m.Kind == Classifier, "kind", `want "score" or "classifier"`},
		{k >= 2, "num_classes", "need at least 2 classes"},
		{len(m.ClassNames) == k, "class_names", fmt.Sprintf("%d names for num_classes %d", len(m.ClassNames), k)},
		{m.Channels == 1 || m.Channels == 3, "input_channels", "want 1 or 3"},
		{m.Height > 0 && m.Width > 0, "input_height", "input size must be positive"},
		{m.ColorMode == map[int]string{1: "gray", 3: "rgb"}[m.Channels], "color_mode", "does not match input_channels"},
		{len(m.Mean) == m.Channels, "norm_mean", "want one value per channel"},
		{len(m.Std) == m.Channels && positive(m.Std), "norm_std", "want one positive value per channel"},
		{m.Kind != Score || m.Schedule == "loglinear", "schedule", `this build implements "loglinear"`},
		{m.Kind != Score || math.Abs(m.ScheduleEps-sampler.ScheduleEps) <= 1e-9*sampler.ScheduleEps, "schedule_eps",
			fmt.Sprintf("the sampler's ε is %g: a model trained with another ε would be sampled wrongly", sampler.ScheduleEps)},
		{m.Intensity.Validate() == nil, "intensity", fmt.Sprint(m.Intensity.Validate())},
		{m.RecommendedSteps >= 0 && m.RecommendedSteps <= 1000, "recommended_steps", "want 0 (none) to 1000"},
		{m.MinSteps >= 0 && (m.RecommendedSteps == 0 || m.MinSteps <= m.RecommendedSteps), "min_steps", "want 0 (none) up to recommended_steps"},
		{plainText(m.Name, 64), "model_name", "want at most 64 characters, no control characters or backslashes"},
		{plainText(m.Version, 64), "model_version", "want at most 64 characters, no control characters or backslashes"},
		{m.Degradation.Kind == "none" || m.Degradation.Kind == "lowres" && m.Degradation.Resolution > 0, "degradation", "want none or lowres with a resolution"},
	}
	for _, c := range checks {
		if !c.ok {
			return nil, &Error{Key: c.key, Value: props[Prefix+c.key], Problem: c.why}
		}
	}
	if why := namesProblem(m.ClassNames); why != "" {
		return nil, &Error{Key: "class_names", Problem: why}
	}
	return m, nil
}

// namesProblem says why class names cannot name a model's classes, or
// returns "": every class needs a name of its own, since records, prediction
// sets, labels and review decisions name classes by it.
func namesProblem(names []string) string {
	first := make(map[string]int, len(names))
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Sprintf("class %d has no name", i)
		}
		if j, dup := first[n]; dup {
			return fmt.Sprintf("classes %d and %d are both named %q", j, i, n)
		}
		first[n] = i
	}
	return ""
}

func positive(v []float32) bool {
	for _, x := range v {
		if !(x > 0) {
			return false
		}
	}
	return true
}

// parser keeps the first error, so Parse reads as a list of fields.
type parser struct {
	props map[string]string
	err   error
}

func (p *parser) str(key string) string {
	v, ok := p.props[Prefix+key]
	if !ok && p.err == nil {
		p.err = &Error{Key: key, Problem: "missing (was the model exported by training/didicm_train?)"}
	}
	return v
}

func (p *parser) int(key string) int {
	s := p.str(key)
	n, err := strconv.Atoi(s)
	if err != nil && p.err == nil {
		p.err = &Error{Key: key, Value: s, Problem: "not an integer"}
	}
	return n
}

// optionalInt is an integer key that may be absent (0).
func (p *parser) optionalInt(key string) int {
	if _, ok := p.props[Prefix+key]; !ok {
		return 0
	}
	return p.int(key)
}

func (p *parser) float(key string) float64 {
	s := p.str(key)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && p.err == nil {
		p.err = &Error{Key: key, Value: s, Problem: "not a number"}
	}
	return f
}

func (p *parser) json(key string, v any) {
	s := p.str(key)
	if err := json.Unmarshal([]byte(s), v); err != nil && p.err == nil {
		p.err = &Error{Key: key, Value: s, Problem: "not valid JSON of the expected shape"}
	}
}

// FileSHA256 is the hex SHA-256 of a model file: how results and job specs
// name the model that produced them.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %q: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
