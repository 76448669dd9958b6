package dicomsr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/recordkey"
)

// Writer is the output.Writer named "sr": a finished job's DICOM
// structured reports, one per study (or series) of its DICOM records,
// kept in the job's folder (jobs.Layout.SR) and sent with STOW-RS where
// Config.Send says.
type Writer struct{ cfg Config }

var _ output.Writer = (*Writer)(nil)

// New checks cfg and makes a writer.
func New(cfg Config) (*Writer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Writer{cfg: cfg}, nil
}

// Name is "sr".
func (w *Writer) Name() string { return "sr" }

// entry is what a report keeps of one classified record while the job's
// records are grouped.
type entry struct {
	Key     string   `json:"k"`
	Series  string   `json:"se"`
	SOP     string   `json:"so"`
	Frame   int      `json:"f,omitempty"`
	Class   int      `json:"c"`
	Name    string   `json:"n"`
	Prob    float64  `json:"p"`
	Entropy float64  `json:"h"`
	Cal     bool     `json:"cal,omitempty"`
	Set     []string `json:"set,omitempty"`
	Review  bool     `json:"r,omitempty"`
	Sampler string   `json:"sa,omitempty"`
	Steps   int      `json:"st,omitempty"`
}

// groupInfo is what a group holds beside its entries: its UIDs and its
// failed records.
type groupInfo struct {
	study, series string
	failed        int
}

// Write makes one report per study (or series) of the job's records that
// carry a Study Instance UID: it groups the records (in a temporary file,
// see spill), reads each study's attributes and its instances' SOP
// classes from the job's input, writes the report to the job's folder and
// sends it where Config.Send says. A study that fails (its instances gone
// from the input, the PACS refusing the report) does not stop the others:
// Write returns every failure joined, after trying every study. Run again,
// it writes and sends reports with the same UIDs: each replaces its copy.
func (w *Writer) Write(ctx context.Context, job *output.Job) error {
	if sha := job.Spec.ModelSHA256; sha != "" && sha != w.cfg.Model.SHA256 {
		return fmt.Errorf("sr: job %s ran model %s, the writer has %s", job.Spec.ID, sha, w.cfg.Model.SHA256)
	}
	groups, infos, err := w.group(ctx, job)
	if err != nil {
		return err
	}
	defer groups.Close()
	if len(infos) == 0 {
		w.cfg.Log.Info("sr: no DICOM records", "job", job.Spec.ID)
		return nil
	}
	src, err := w.cfg.OpenSource(ctx, job.Spec.InputURL)
	if err != nil {
		return fmt.Errorf("sr: open the job's input: %w", err)
	}
	defer src.Close()
	dest, err := openDestination(w.cfg.Send, job.Spec.InputURL, src)
	if err != nil {
		return err
	}
	defer dest.close()
	mk := &maker{cfg: w.cfg, job: job, in: &instances{src: src, maxBytes: maxBytes(job.Spec),
		parallel: w.cfg.Parallel}, rule: pipeline.RuleOf(job.Spec), time: jobTime(job), byName: map[string]int{}}
	for i, name := range w.cfg.Model.ClassNames {
		mk.byName[name] = i
	}
	var errs []error
	for _, key := range groups.Keys() {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := w.one(ctx, mk, groups, key, infos[key], dest); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sr: %d of %d reports failed: %w", len(errs), len(infos), errors.Join(errs...))
	}
	return nil
}

// group reads the job's records into groups by study (or series).
func (w *Writer) group(ctx context.Context, job *output.Job) (*spill[entry], map[string]*groupInfo, error) {
	groups, err := newSpill[entry](w.cfg.TempDir)
	if err != nil {
		return nil, nil, err
	}
	infos := map[string]*groupInfo{}
	rule := pipeline.RuleOf(job.Spec)
	err = job.Records(ctx, func(r pipeline.Record) error {
		if r.StudyUID == "" {
			return nil // not DICOM, or unread
		}
		series := ""
		if w.cfg.Per == PerSeries {
			series = r.SeriesUID
		}
		key := r.StudyUID + "\x00" + series
		info := infos[key]
		if info == nil {
			info = &groupInfo{study: r.StudyUID, series: series}
			infos[key] = info
		}
		if r.Error != "" || r.ClassIndex < 0 {
			info.failed++
			return nil
		}
		return groups.Add(key, entryOf(r, rule))
	})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("sr: read the job's records: %w", err), groups.Close())
	}
	return groups, infos, nil
}

func entryOf(r pipeline.Record, rule pipeline.ReviewRule) entry {
	e := entry{Key: r.Key, Series: r.SeriesUID, SOP: r.SOPUID, Frame: r.Frame, Class: r.ClassIndex, Name: r.Class,
		Prob: r.MaxProb, Entropy: r.EntropyNorm, Cal: r.PredictionSet != nil, Set: r.PredictionSet,
		Review: rule.Wants(r), Sampler: r.Sampler, Steps: r.Steps}
	if e.Prob == 0 && r.ClassIndex < len(r.Posterior) {
		e.Prob = r.Posterior[r.ClassIndex]
	}
	return e
}

// one makes, keeps and sends the report of one group.
func (w *Writer) one(ctx context.Context, mk *maker, groups *spill[entry], key string, info *groupInfo,
	dest *destination) error {
	rep, err := mk.report(ctx, groups, key, info)
	if err != nil {
		return fmt.Errorf("study %s: %w", info.study, err)
	}
	if rep == nil {
		return nil // nothing classified: no report, nothing to replace
	}
	data, err := rep.Encode()
	if err != nil {
		return fmt.Errorf("study %s: %w", info.study, err)
	}
	if err := mk.job.Store.WriteSR(ctx, info.study, info.series, data); err != nil {
		return fmt.Errorf("study %s: keep the report: %w", info.study, err)
	}
	w.cfg.Log.Info("sr: report written", "job", mk.job.Spec.ID, "study", info.study, "series", info.series,
		"sop", rep.InstanceUID, "images", len(rep.Images), "bytes", len(data),
		"object", mk.job.Store.Layout().SR(info.study, info.series))
	if dest == nil {
		return nil
	}
	if err := dest.send(ctx, info.study, rep.InstanceUID, data); err != nil {
		return fmt.Errorf("study %s: %w: %w", info.study, errNotSent, err)
	}
	w.cfg.Log.Info("sr: report sent", "job", mk.job.Spec.ID, "study", info.study, "sop", rep.InstanceUID)
	return nil
}

// maxBytes is the most of one instance the writer reads: the job's limit.
func maxBytes(spec jobs.Spec) int64 {
	if spec.MaxBytes > 0 {
		return spec.MaxBytes
	}
	return 64 << 20
}

// jobTime is when the job's results were complete (its summary's
// finish), else when it was enqueued: the same for every run of the
// writer on the job, so that a report made again is the same report.
func jobTime(job *output.Job) time.Time {
	for _, s := range []string{job.Summary.Finished, job.Manifest.Created} {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	return time.Unix(0, 0)
}

// objectKey is the source key of a record's instance.
func objectKey(recordKey string) string {
	if k, err := recordkey.Parse(recordKey); err == nil {
		return k.Object
	}
	return recordKey
}
