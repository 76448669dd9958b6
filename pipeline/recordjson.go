package pipeline

import (
	"github.com/didicm/didicm/internal/jsonenc"
)

// AppendJSON appends r as one results line's JSON object, without the
// newline: classify.Record.AppendJSON's fields (the posterior at float32
// precision) followed by job, batch, model_sha256, ort_version and
// provider, as encoding/json orders an embedded struct's fields. It fails
// only on a non-finite number, appending nothing.
func (r *Record) AppendJSON(dst []byte) ([]byte, error) {
	b, err := r.Record.AppendJSON(dst)
	if err != nil {
		return dst, err
	}
	b = b[:len(b)-1] // reopen the object: its last byte is '}'
	b = jsonenc.String(append(b, `,"job":`...), r.Job)
	b = jsonenc.Int(append(b, `,"batch":`...), r.Batch)
	b = jsonenc.String(append(b, `,"model_sha256":`...), r.ModelSHA256)
	b = jsonenc.String(append(b, `,"ort_version":`...), r.ORTVersion)
	b = jsonenc.String(append(b, `,"provider":`...), r.Provider)
	return append(b, '}'), nil
}
