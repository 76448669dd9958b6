package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/internal/labelcsv"
	"github.com/didicm/didicm/modelmeta"
)

// labelledPosteriors are the posteriors of labelled images and their labels.
type labelledPosteriors struct {
	post   [][]float64
	labels []int
}

// classifyLabelled classifies DATA's labelled images with the configured
// model; it returns their posteriors, the class names and the model's sha256.
func (a *app) classifyLabelled(ctx context.Context, dir, labelsPath string) (*labelledPosteriors, []string, string, error) {
	eng, m, err := a.engine(0, 64)
	if err != nil {
		return nil, nil, "", err
	}
	defer m.Close()
	meta := m.Metadata()
	files, labels, err := labelled(dir, labelsPath, meta)
	if err != nil {
		return nil, nil, "", usageError{err}
	}
	out := &labelledPosteriors{}
	_, err = eng.Stream(ctx, len(files), 64, func(_ context.Context, i int) classify.Item {
		b, err := os.ReadFile(files[i])
		return classify.Item{Key: files[i], Data: b, Err: err}
	}, func(r classify.Record) error {
		if r.Error == "" && r.Frame == 0 {
			out.post = append(out.post, r.Posterior)
			out.labels = append(out.labels, labels[r.Key])
		}
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	sha, _, _ := m.Identity()
	return out, meta.ClassNames, sha, nil
}

// classOf reads a label: one of the class names, or an index.
func classOf(names []string) func(string) (int, error) {
	index := map[string]int{}
	for i, n := range names {
		index[n] = i
	}
	return func(s string) (int, error) {
		if i, ok := index[s]; ok {
			return i, nil
		}
		if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(names) {
			return i, nil
		}
		return 0, fmt.Errorf("label %q is not one of the model's %d classes", s, len(names))
	}
}

// labelled lists the labelled files: DATA's subfolders named by class, or
// the CSV's keys (relative to DATA).
func labelled(dir, labelsPath string, meta *modelmeta.Metadata) ([]string, map[string]int, error) {
	if labelsPath == "" {
		return labelsFromFolders(dir, classOf(meta.ClassNames))
	}
	return labelsFromCSV(dir, labelsPath, classOf(meta.ClassNames))
}

// labelsFromFolders labels the files in dir's subfolders by the folder's name.
func labelsFromFolders(dir string, classOf func(string) (int, error)) ([]string, map[string]int, error) {
	listedFiles, err := listFiles([]string{dir})
	if err != nil {
		return nil, nil, err
	}
	labels := map[string]int{}
	var files []string
	for _, f := range listedFiles {
		rel, _ := filepath.Rel(dir, f.path)
		class, _, ok := strings.Cut(filepath.ToSlash(rel), "/")
		if !ok || f.err != nil {
			continue
		}
		y, err := classOf(class)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: subfolder %w", dir, err)
		}
		files, labels[f.path] = append(files, f.path), y
	}
	return files, labels, nil
}

// labelsFromCSV reads a labels CSV (package labelcsv: key and label
// columns, others ignored); keys are relative to dir.
func labelsFromCSV(dir, labelsPath string, classOf func(string) (int, error)) ([]string, map[string]int, error) {
	var files []string
	labels := map[string]int{}
	err := readLabelRows(labelsPath, []string{"key"}, func(row labelcsv.Row) error {
		y, err := classOf(row.Label)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(row.Key))
		if _, dup := labels[path]; dup || row.Key == "" {
			return fmt.Errorf("key %q is empty or given twice", row.Key)
		}
		files, labels[path] = append(files, path), y
		return nil
	})
	return files, labels, err
}

// readLabelRows calls fn with each row of a labels CSV keyed by one of
// keyNames (labelcsv.NewReaderFor); an error names the file and line.
func readLabelRows(path string, keyNames []string, fn func(labelcsv.Row) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r, err := labelcsv.NewReaderFor(fh, keyNames...)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(row); err != nil {
			return fmt.Errorf("%s line %d: %w", path, row.Line, err)
		}
	}
}

// loadCalibration reads the configured calibration file, if any, for the
// model with this sha256 and k classes: every field is checked
// (calibrate.Parse), and a wrong one is a configuration error naming it.
func (c *Config) loadCalibration(modelSHA256 string, k int) (*calibrate.Calibration, error) {
	if c.Calibration == "" {
		return nil, nil
	}
	data, err := os.ReadFile(c.Calibration)
	if err != nil {
		return nil, &ConfigError{"calibration", err.Error()}
	}
	cal, err := calibrate.Parse(data)
	if err == nil {
		err = cal.ForModel(modelSHA256, k)
	}
	if err != nil {
		return nil, &ConfigError{"calibration", fmt.Sprintf("%s: %v", c.Calibration, err)}
	}
	return cal, nil
}

// loadStudyCalibration reads the configured study calibration (calibrate
// --by study) and checks it was fitted for this model; nil when none.
func (c *Config) loadStudyCalibration(modelSHA256 string, k int) (*calibrate.Calibration, error) {
	if c.StudyCalibration == "" {
		return nil, nil
	}
	data, err := os.ReadFile(c.StudyCalibration)
	if err != nil {
		return nil, &ConfigError{"study_calibration", err.Error()}
	}
	cal, err := calibrate.Parse(data)
	if err == nil {
		err = cal.ForStudies(modelSHA256, k)
	}
	if err != nil {
		return nil, &ConfigError{"study_calibration", fmt.Sprintf("%s: %v", c.StudyCalibration, err)}
	}
	return cal, nil
}
