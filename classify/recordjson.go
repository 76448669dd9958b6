package classify

import (
	"fmt"
	"math"
	"strconv"

	"github.com/didicm/didicm/internal/jsonenc"
)

// AppendJSON appends r as one JSON object, without a newline: the fields,
// names, order and escaping that encoding/json gives a Record, except for
// the posterior's values. Those are written at float32 precision, the
// model's: each is the shortest decimal that parses back, at 32 bits, to
// the value rounded to float32, in exponent notation below 1e-3 where that
// is the shorter (jsonenc.CompactFloat32). A value too small for a normal
// float32 (below 2⁻¹²⁶ ≈ 1.2e-38) is written at float64 precision instead,
// so that no probability above zero is written as 0. At K=10⁵ this makes
// the line about 40% shorter than encoding/json's float64 decimals, and
// quicker to write (BenchmarkRecordJSON, docs/benchmarks.md). Every other
// number is written as encoding/json writes it.
//
// It fails, appending nothing, only when a number is NaN or infinite (which
// encoding/json refuses too); the engine's records have none.
func (r *Record) AppendJSON(dst []byte) ([]byte, error) {
	if field := r.nonFinite(); field != "" {
		return dst, fmt.Errorf("record %q: %s is not a finite number", r.Key, field)
	}
	b := r.appendClass(append(dst, '{'))
	b = r.appendScores(b)
	b = r.appendError(b)
	return append(b, '}'), nil
}

// nonFinite names the first field holding NaN or ±Inf, or returns "".
func (r *Record) nonFinite() string {
	for _, f := range []struct {
		name string
		v    float64
	}{{"max_prob", r.MaxProb}, {"margin", r.Margin}, {"entropy", r.Entropy}, {"entropy_norm", r.EntropyNorm}} {
		if !jsonenc.Finite(f.v) {
			return f.name
		}
	}
	if r.ChainAgreement != nil && !jsonenc.Finite(*r.ChainAgreement) {
		return "chain_agreement"
	}
	for _, c := range r.TopK {
		if !jsonenc.Finite(c.Prob) {
			return "top_k"
		}
	}
	for _, p := range r.Posterior {
		if !jsonenc.Finite(p) {
			return "posterior"
		}
	}
	return ""
}

// appendClass appends key to top_k.
func (r *Record) appendClass(b []byte) []byte {
	b = jsonenc.String(append(b, `"key":`...), r.Key)
	if r.Class != "" {
		b = jsonenc.String(append(b, `,"class":`...), r.Class)
	}
	b = jsonenc.Int(append(b, `,"class_index":`...), r.ClassIndex)
	if len(r.Posterior) > 0 {
		b = appendPosterior(append(b, `,"posterior":`...), r.Posterior)
	}
	if len(r.TopK) > 0 {
		b = append(b, `,"top_k":[`...)
		for i, c := range r.TopK {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.String(append(b, `{"class":`...), c.Class)
			b = jsonenc.Int(append(b, `,"index":`...), c.Index)
			b = append(jsonenc.Float64(append(b, `,"prob":`...), c.Prob), '}')
		}
		b = append(b, ']')
	}
	return b
}

// appendScores appends max_prob to nfe.
func (r *Record) appendScores(b []byte) []byte {
	b = jsonenc.Float64(append(b, `,"max_prob":`...), r.MaxProb)
	b = jsonenc.Float64(append(b, `,"margin":`...), r.Margin)
	b = jsonenc.Float64(append(b, `,"entropy":`...), r.Entropy)
	b = jsonenc.Float64(append(b, `,"entropy_norm":`...), r.EntropyNorm)
	if r.ChainAgreement != nil {
		b = jsonenc.Float64(append(b, `,"chain_agreement":`...), *r.ChainAgreement)
	}
	b = jsonenc.String(append(b, `,"sampler":`...), r.Sampler)
	b = jsonenc.Int(append(b, `,"steps":`...), r.Steps)
	if r.Chains != 0 {
		b = jsonenc.Int(append(b, `,"chains":`...), r.Chains)
	}
	return jsonenc.Int(append(b, `,"nfe":`...), r.NFE)
}

// appendError appends error to frame.
func (r *Record) appendError(b []byte) []byte {
	b = appendOptString(b, `,"error":`, r.Error)
	b = appendOptString(b, `,"error_reason":`, r.ErrorReason)
	if r.PredictionSet != nil { // omitzero: an empty set of a calibrated record is written
		b = append(b, `,"prediction_set":[`...)
		for i, c := range r.PredictionSet {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.String(b, c)
		}
		b = append(b, ']')
	}
	if r.SetSize != nil {
		b = jsonenc.Int(append(b, `,"set_size":`...), *r.SetSize)
	}
	b = appendOptString(b, `,"study_uid":`, r.StudyUID)
	b = appendOptString(b, `,"series_uid":`, r.SeriesUID)
	b = appendOptString(b, `,"sop_uid":`, r.SOPUID)
	if r.Frame != 0 {
		b = jsonenc.Int(append(b, `,"frame":`...), r.Frame)
	}
	return r.appendPlace(b)
}

// appendPlace appends t to log_time: where a video frame or log message
// is in its file.
func (r *Record) appendPlace(b []byte) []byte {
	if r.T != nil {
		b = jsonenc.Float64(append(b, `,"t":`...), *r.T)
	}
	if r.PTS != nil {
		b = strconv.AppendInt(append(b, `,"pts":`...), *r.PTS, 10)
	}
	if r.FrameIndex != nil {
		b = strconv.AppendInt(append(b, `,"frame_index":`...), *r.FrameIndex, 10)
	}
	b = appendOptString(b, `,"topic":`, r.Topic)
	if r.LogTime != nil {
		b = strconv.AppendUint(append(b, `,"log_time":`...), *r.LogTime, 10)
	}
	return b
}

// appendOptString appends name and s unless s is empty (omitempty).
func appendOptString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.String(append(b, name...), s)
}

// minNormal32 is the smallest normal float32; below it float32 keeps fewer
// significant bits, down to none.
const minNormal32 = 0x1p-126

// appendPosterior appends p as a JSON array at float32 precision (see
// AppendJSON); the values must be finite.
func appendPosterior(b []byte, p []float64) []byte {
	b = append(b, '[')
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		if a := math.Abs(v); a == 0 || (a >= minNormal32 && a <= math.MaxFloat32) {
			b = jsonenc.CompactFloat32(b, float32(v))
		} else {
			b = jsonenc.Float64(b, v)
		}
	}
	return append(b, ']')
}
