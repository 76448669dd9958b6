package main

import (
	"context"
	"fmt"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/internal/labelcsv"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// calibrateStudies fits a calibration of study posteriors (package
// grouping, by o.StudyRule) on study labels: the images of DATA, classified
// here, or a finished job's records, grouped by their study_uid.
func (a *app) calibrateStudies(ctx context.Context, args []string, labelsPath string, o calibrate.Options) (*fitted, error) {
	var src studySource
	var err error
	if len(args) == 1 {
		src, err = a.classifyStudies(ctx, args[0])
	} else {
		src, err = a.jobStudies(ctx)
	}
	if err != nil {
		return nil, err
	}
	defer src.close()
	res, err := grouping.Run(grouping.Config{Rule: grouping.Rule(o.StudyRule), Classes: src.names}, src.records)
	if err != nil {
		return nil, err
	}
	studies := res.Studies()
	if len(studies) == 0 {
		return nil, usageError{fmt.Errorf("no record has a study (a DICOM study_uid): --by study groups DICOM images by study")}
	}
	labels := map[string]int{}
	class := classOf(src.names)
	err = readLabelRows(labelsPath, []string{"study_uid", "key"}, func(row labelcsv.Row) error {
		y, err := class(row.Label)
		if _, dup := labels[row.Key]; err == nil && (dup || row.Key == "") {
			err = fmt.Errorf("study %q is empty or given twice", row.Key)
		}
		labels[row.Key] = y
		return err
	})
	if err != nil {
		return nil, usageError{err}
	}
	var post [][]float64
	var ys []int
	for _, s := range studies {
		if y, ok := labels[s.StudyUID]; ok && len(s.Posterior) == len(src.names) {
			post, ys = append(post, s.Posterior), append(ys, y)
		}
	}
	c, err := calibrate.Fit(post, ys, o)
	if err != nil {
		return nil, fitError(err, src.names)
	}
	c.ModelSHA256 = src.sha
	note := fmt.Sprintf("%d studies (%s rule) with a label and a posterior, of %d studies and %d labels; a study's set is "+
		"calibrate.Set of its posterior with u = calibrate.U(study_uid).", len(post), o.StudyRule, len(studies), len(labels))
	return &fitted{cal: c, names: src.names, notes: []string{note}}, nil
}

// studySource is the records to group, the class names and the model.
type studySource struct {
	records grouping.Records
	names   []string
	sha     string
	close   func()
}

// classifyStudies classifies every image in dir with the configured model
// and keeps the records in memory (grouping reads them twice).
func (a *app) classifyStudies(ctx context.Context, dir string) (studySource, error) {
	eng, m, err := a.engine(0, 64)
	if err != nil {
		return studySource{}, err
	}
	defer m.Close()
	files, err := listFiles([]string{dir})
	if err != nil {
		return studySource{}, err
	}
	var recs []pipeline.Record
	err = classifyFiles(ctx, eng, files, 64, func(r classify.Record) error {
		recs = append(recs, pipeline.Record{Record: r})
		return nil
	})
	if err != nil {
		return studySource{}, err
	}
	sha, _, _ := m.Identity()
	return studySource{names: m.Metadata().ClassNames, sha: sha, close: func() {}, records: func(fn func(pipeline.Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}

// jobStudies reads a finished job's records (full posteriors) from its bucket.
func (a *app) jobStudies(ctx context.Context) (studySource, error) {
	store, err := jobs.OpenStore(ctx, a.cfg.Job.ref())
	if err != nil {
		return studySource{}, err
	}
	job, err := output.Open(ctx, store)
	if err != nil {
		_ = store.Close() // the open error is the one to report
		return studySource{}, err
	}
	if p := job.Spec.Posterior; p != "" && p != jobs.DefaultPosterior {
		_ = store.Close()
		return studySource{}, usageError{fmt.Errorf("job %s keeps top-k posteriors: calibrating needs full ones (job.posterior full)", job.Spec.ID)}
	}
	return studySource{names: job.Spec.ClassNames, sha: job.Spec.ModelSHA256, close: func() { _ = store.Close() },
		records: func(fn func(pipeline.Record) error) error { return job.Records(ctx, fn) }}, nil
}
