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
// also has classes and sets, a version 3 file by, and a RAPS file lambda
// and k_reg.
var required = []string{"format_version", "model_sha256", "method", "alpha", "temperature", "threshold"}

// since3 are the fields a file before version 3 does not have.
var since3 = []string{"by", "class_thresholds", "class_sizes", "study_rule", "stratum"}

// Parse reads a calibration file: every field known, of its type and
// within its range, the required ones present (Validate). Errors are
// FieldErrors. A version 1 file (written before classes and sets) reads as
// randomised sets, and files before version 3 as calibrations by image.
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
	switch c.FormatVersion {
	case FormatVersion:
		need = append(need, "classes", "sets", "by")
	case "2":
		need = append(need, "classes", "sets")
	}
	if c.FormatVersion == "1" || c.FormatVersion == "2" {
		for _, f := range since3 {
			if _, ok := fields[f]; ok {
				return nil, bad(f, "needs format_version %s", FormatVersion)
			}
		}
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
	case c.FormatVersion != FormatVersion && c.FormatVersion != "1" && c.FormatVersion != "2":
		return bad("format_version", "%q: this build reads 1 to %s", c.FormatVersion, FormatVersion)
	case !sha256RE.MatchString(c.ModelSHA256):
		return bad("model_sha256", "%q is not a sha256 (64 hex digits)", c.ModelSHA256)
	case c.Method != LAC && c.Method != APS && c.Method != RAPS:
		return bad("method", "%q: want lac, aps or raps", c.Method)
	case !(c.Alpha > 0 && c.Alpha < 1):
		return bad("alpha", "%g: want between 0 and 1", c.Alpha)
	case !(c.Temperature >= MinTemperature && c.Temperature <= MaxTemperature):
		return bad("temperature", "%g: want %g to %g", c.Temperature, MinTemperature, MaxTemperature)
	case c.Classes < 0 || c.Classes == 1 || c.FormatVersion != "1" && c.Classes == 0:
		return bad("classes", "%d: want the model's number of classes, at least 2", c.Classes)
	case c.FormatVersion == "1" && c.Sets != "":
		return bad("sets", "%q needs format_version 2", c.Sets)
	case c.FormatVersion == "2" && c.Sets != Randomized && c.Sets != NonRandomized:
		return bad("sets", "%q: want %s or %s (%s needs format_version %s)", c.Sets, Randomized, NonRandomized, RandomizedNonEmpty, FormatVersion)
	case c.FormatVersion == FormatVersion && c.Sets != Randomized && c.Sets != NonRandomized && c.Sets != RandomizedNonEmpty:
		return bad("sets", "%q: want %s, %s or %s", c.Sets, Randomized, RandomizedNonEmpty, NonRandomized)
	}
	if err := c.validatePenalty(); err != nil {
		return err
	}
	if top := c.maxScore(c.Classes); !(c.Threshold >= 0 && c.Threshold <= top) {
		return bad("threshold", "%g: want a %s score, 0 to %g", c.Threshold, c.Method, top)
	}
	if err := c.validateBy(); err != nil {
		return err
	}
	return c.validateStratum()
}

// validateBy checks by and what goes with it: a threshold per class by
// class, a study rule by study, neither otherwise.
func (c *Calibration) validateBy() error {
	switch c.By {
	case "", ByImage, ByClass, ByStudy:
	default:
		return bad("by", "%q: want %s, %s or %s", c.By, ByImage, ByClass, ByStudy)
	}
	if (c.By == ByStudy) != (c.StudyRule != "") || c.StudyRule != "" && c.StudyRule != "mean" && c.StudyRule != "max" {
		return bad("study_rule", "%q: want mean or max by study, nothing otherwise", c.StudyRule)
	}
	if c.By != ByClass {
		if c.ClassThresholds != nil || c.ClassSizes != nil {
			return bad("class_thresholds", "for by %s only", ByClass)
		}
		return nil
	}
	if len(c.ClassThresholds) != c.Classes {
		return bad("class_thresholds", "%d thresholds: want one per class (%d)", len(c.ClassThresholds), c.Classes)
	}
	top := c.maxScore(c.Classes)
	for k, q := range c.ClassThresholds {
		if !(q >= 0 && q <= top) {
			return bad("class_thresholds", "class %d: %g: want a %s score, 0 to %g", k, q, c.Method, top)
		}
	}
	if c.ClassSizes != nil && len(c.ClassSizes) != c.Classes {
		return bad("class_sizes", "%d sizes: want one per class (%d)", len(c.ClassSizes), c.Classes)
	}
	return nil
}

// validateStratum checks a calibration fitted on review decisions: its
// stratum, and that its base is for the same model and K.
func (c *Calibration) validateStratum() error {
	s := c.Stratum
	if s == nil {
		return nil
	}
	if c.By == ByStudy {
		return bad("stratum", "a study calibration has no review stratum")
	}
	if err := s.check(); err != nil {
		return err
	}
	if b := s.Base; b != nil && (b.ModelSHA256 != c.ModelSHA256 || b.Classes != 0 && b.Classes != c.Classes) {
		return bad("stratum.base", "fitted for model %.12s with %d classes, this calibration for %.12s with %d", b.ModelSHA256, b.Classes, c.ModelSHA256, c.Classes)
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
// A study calibration (By ByStudy) is refused: its sets are for studies'
// posteriors (ForStudies), not images'.
func (c *Calibration) ForModel(sha256 string, k int) error {
	if c.By == ByStudy {
		return bad("by", "%s: this calibration makes sets for studies, not images", c.By)
	}
	return c.forModel(sha256, k)
}

// ForStudies checks that the calibration is by study and was fitted for
// the model with this sha256 and k classes.
func (c *Calibration) ForStudies(sha256 string, k int) error {
	if c.By != ByStudy {
		return bad("by", "%q: want %s to make sets for studies", c.By, ByStudy)
	}
	return c.forModel(sha256, k)
}

func (c *Calibration) forModel(sha256 string, k int) error {
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
