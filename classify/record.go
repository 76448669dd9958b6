package classify

import (
	"errors"
	"math"
	"time"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/sampler"
)

// Record is the result for one image: a line of `didicm classify --format
// jsonl` and of the batch pipeline's result files.
type Record struct {
	Key string `json:"key"`
	// Class is the predicted class name; ClassIndex its index (-1 on error).
	Class      string `json:"class,omitempty"`
	ClassIndex int    `json:"class_index"`
	// Posterior has K probabilities in class order, unless TopK was asked for.
	Posterior []float64 `json:"posterior,omitempty"`
	// TopK holds the most probable classes when Options.TopK > 0.
	TopK        []ClassProb `json:"top_k,omitempty"`
	MaxProb     float64     `json:"max_prob"`
	Margin      float64     `json:"margin"`
	Entropy     float64     `json:"entropy"`
	EntropyNorm float64     `json:"entropy_norm"`
	// ChainAgreement is CL's fraction of chains that ended at Class.
	ChainAgreement *float64 `json:"chain_agreement,omitempty"`
	Sampler        string   `json:"sampler"`
	Steps          int      `json:"steps"`
	Chains         int      `json:"chains,omitempty"`
	NFE            int      `json:"nfe"`
	// Error says why this image has no posterior; ErrorReason is a stable word.
	Error       string `json:"error,omitempty"`
	ErrorReason string `json:"error_reason,omitempty"`
	// PredictionSet (class names, most probable first) holds the true
	// class with the calibration's coverage; SetSize is its length. Both
	// are there with a calibration, and only then (nil without): an empty
	// set is written as [] (calibrate.Calibration.Set says what it means).
	PredictionSet []string `json:"prediction_set,omitzero"`
	SetSize       *int     `json:"set_size,omitempty"`
	// A DICOM image's study, series and instance UIDs, and its 1-based
	// frame in a multi-frame file: what joins it back to the archive.
	StudyUID  string `json:"study_uid,omitempty"`
	SeriesUID string `json:"series_uid,omitempty"`
	SOPUID    string `json:"sop_uid,omitempty"`
	Frame     int    `json:"frame,omitempty"`
	// A video frame's or log message's time from its file's start, in
	// seconds to the millisecond (the key's #t=); a video frame's
	// presentation time stamp (stream time base) and 0-based number in
	// presentation order when the container gives it; a log message's
	// topic and log time (ns since the epoch, as the log records it).
	T          *float64 `json:"t,omitempty"`
	PTS        *int64   `json:"pts,omitempty"`
	FrameIndex *int64   `json:"frame_index,omitempty"`
	Topic      string   `json:"topic,omitempty"`
	LogTime    *uint64  `json:"log_time,omitempty"`
}

// identify copies a DICOM image's identifiers into its record.
func (r *Record) identify(p Prepared) {
	r.Frame = p.Frame
	if p.DICOM != nil {
		r.StudyUID, r.SeriesUID, r.SOPUID = p.DICOM.StudyUID, p.DICOM.SeriesUID, p.DICOM.SOPUID
	}
	if p.Timed {
		t := float64(p.Time.Round(time.Millisecond).Milliseconds()) / 1000
		r.T = &t
	}
	if v := p.Video; v != nil {
		pts := v.PTS
		r.PTS = &pts
		if v.Index >= 0 {
			idx := v.Index
			r.FrameIndex = &idx
		}
	}
	r.Topic = p.Topic
	if p.Log != nil {
		lt := p.Log.LogTime
		r.LogTime = &lt
	}
}

// ClassProb is one entry of Record.TopK.
type ClassProb struct {
	Class string  `json:"class"`
	Index int     `json:"index"`
	Prob  float64 `json:"prob"`
}

func (e *Engine) base(key string) Record {
	r := Record{Key: key, ClassIndex: -1, Sampler: e.opts.Sampler, Steps: e.opts.Steps}
	switch e.opts.Sampler {
	case "cl":
		r.Chains = e.opts.Chains
	case "softmax":
		r.Steps = 0
	}
	return r
}

func (e *Engine) errorRecord(key string, err error) Record {
	r := e.base(key)
	r.Error, r.ErrorReason = err.Error(), "read"
	var ie *imaging.Error
	if errors.As(err, &ie) {
		r.ErrorReason = ie.Reason
	}
	return r
}

func (e *Engine) record(key string, res sampler.Result) Record {
	r := e.base(key)
	r.NFE = res.NFE
	if res.Err != nil {
		r.Error, r.ErrorReason = res.Err.Error(), "non_finite"
		return r
	}
	r.ClassIndex, r.Class = res.Class, e.meta.ClassNames[res.Class]
	r.MaxProb, r.Margin, r.Entropy, r.EntropyNorm = res.MaxProb, res.Margin, res.Entropy, res.EntropyNorm
	if c := e.opts.Calibration; c != nil {
		set := c.Set(res.Posterior, calibrate.U(key))
		r.PredictionSet = make([]string, len(set)) // not nil: an empty set is written
		for i, k := range set {
			r.PredictionSet[i] = e.meta.ClassNames[k]
		}
		n := len(set)
		r.SetSize = &n
	}
	if !math.IsNaN(res.Agreement) {
		a := res.Agreement
		r.ChainAgreement = &a
	}
	if e.opts.TopK > 0 && e.opts.TopK < len(res.Posterior) {
		for _, i := range topK(res.Posterior, e.opts.TopK) {
			r.TopK = append(r.TopK, ClassProb{Class: e.meta.ClassNames[i], Index: i, Prob: res.Posterior[i]})
		}
	} else {
		r.Posterior = res.Posterior
	}
	return r
}
