package calibrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
)

// FieldError names the field of a calibration file that is wrong.
type FieldError struct{ Field, Problem string }

func (e *FieldError) Error() string { return fmt.Sprintf("calibration %s: %s", e.Field, e.Problem) }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// required are the fields every calibration file has; a version 2 file
// also has classes and sets, and a RAPS file lambda and k_reg.
var required = []string{"format_version", "model_sha256", "method", "alpha", "temperature", "threshold"}

// Parse reads a calibration file: every field known, of its type and
// within its range, the required ones present (Validate). Errors are
// FieldErrors. A version 1 file (written before classes and sets) reads as
// randomised sets.
func Parse(data []byte) (*Calibration, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, bad("file", "not a JSON object: %v", err)
	}
	var c Calibration
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(err)
	}
	need := required
	if c.FormatVersion == FormatVersion {
		need = append(need, "classes", "sets")
	}
	if c.Method == RAPS {
		need = append(need, "lambda", "k_reg")
	}
	for _, f := range need {
		if v, ok := fields[f]; !ok || string(v) == "null" {
			return nil, bad(f, "missing")
		}
	}
	return &c, c.Validate()
}

// decodeError names the field of a JSON decoding error.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return bad(te.Field, "%s is not a %s", te.Value, te.Type)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return bad(strings.Trim(name, `"`), "unknown field")
	}
	return bad("file", "%v", err)
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks every field of a calibration: the format, the model's
// sha256, the method and α, a temperature in the range Fit searches, a
// finite threshold within the range of the method's scores, and RAPS's
// λ and k_reg. A file with any of them wrong would silently change every
// set (a negative threshold empties them, a tiny temperature makes the
// posterior NaN, a negative λ fills them).
func (c *Calibration) Validate() error {
	switch {
	case c.FormatVersion != FormatVersion && c.FormatVersion != "1":
		return bad("format_version", "%q: this build reads 1 and %s", c.FormatVersion, FormatVersion)
	case !sha256RE.MatchString(c.ModelSHA256):
		return bad("model_sha256", "%q is not a sha256 (64 hex digits)", c.ModelSHA256)
	case c.Method != LAC && c.Method != APS && c.Method != RAPS:
		return bad("method", "%q: want lac, aps or raps", c.Method)
	case !(c.Alpha > 0 && c.Alpha < 1):
		return bad("alpha", "%g: want between 0 and 1", c.Alpha)
	case !(c.Temperature >= MinTemperature && c.Temperature <= MaxTemperature):
		return bad("temperature", "%g: want %g to %g", c.Temperature, MinTemperature, MaxTemperature)
	case c.Classes < 0 || c.Classes == 1 || c.FormatVersion == FormatVersion && c.Classes == 0:
		return bad("classes", "%d: want the model's number of classes, at least 2", c.Classes)
	case c.FormatVersion == "1" && c.Sets != "":
		return bad("sets", "%q needs format_version %s", c.Sets, FormatVersion)
	case c.FormatVersion == FormatVersion && c.Sets != Randomized && c.Sets != NonRandomized:
		return bad("sets", "%q: want %s or %s", c.Sets, Randomized, NonRandomized)
	}
	if err := c.validatePenalty(); err != nil {
		return err
	}
	if top := c.maxScore(c.Classes); !(c.Threshold >= 0 && c.Threshold <= top) {
		return bad("threshold", "%g: want a %s score, 0 to %g", c.Threshold, c.Method, top)
	}
	return nil
}

// validatePenalty checks RAPS's λ and k_reg, and that other methods have none.
func (c *Calibration) validatePenalty() error {
	if c.Method != RAPS {
		if c.Lambda != 0 || c.KReg != 0 {
			return bad("lambda", "%s has no rank penalty: lambda and k_reg are for raps", c.Method)
		}
		return nil
	}
	if !(c.Lambda >= 0 && c.Lambda <= MaxLambda) {
		return bad("lambda", "%g: want 0 to %g", c.Lambda, MaxLambda)
	}
	if c.KReg < 0 || c.Classes > 0 && c.KReg > c.Classes {
		return bad("k_reg", "%d: want 0 to the number of classes", c.KReg)
	}
	return nil
}

// ForModel checks that the calibration was fitted for the model with this
// sha256 and k classes.
func (c *Calibration) ForModel(sha256 string, k int) error {
	if c.ModelSHA256 != sha256 {
		return bad("model_sha256", "fitted for model %.12s, this is %.12s: calibrate this model", c.ModelSHA256, sha256)
	}
	if c.Classes != 0 && c.Classes != k {
		return bad("classes", "%d, the model has %d", c.Classes, k)
	}
	if c.Method == RAPS && c.KReg > k {
		return bad("k_reg", "%d, past the model's %d classes", c.KReg, k)
	}
	return nil
}

// maxScore is the largest score the method gives with k classes (0:
// unknown, the largest of any k for RAPS), with room for rounding: a
// threshold at it puts every class in every set.
func (c *Calibration) maxScore(k int) float64 {
	top := 1.0
	if c.Method == RAPS {
		if k == 0 {
			return math.MaxFloat64
		}
		top += c.Lambda * math.Max(0, float64(k-c.KReg))
	}
	return top * (1 + 1e-9)
}
