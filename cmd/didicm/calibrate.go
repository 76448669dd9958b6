package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/internal/labelcsv"
	"github.com/didicm/didicm/modelmeta"
)

func (a *app) calibrateCmd() *cobra.Command {
	var labelsPath, out, method, sets string
	var alpha float64
	var seed uint64
	cmd := &cobra.Command{
		Use:   "calibrate DATA",
		Short: "Fit prediction sets with a coverage guarantee on labelled images; write the calibration file a job uses",
		Long: `Classifies the labelled images in DATA (one subfolder per class, named as the
model's classes, or any files listed in --labels, a CSV of key,label with
keys relative to DATA and labels as class names or indices: a header names
the key and label columns and any others are ignored; without one, key and
label are the first two), splits them in two halves, fits temperature
scaling and a split-conformal threshold on one and measures coverage on the
other, and writes the calibration JSON (--out). With it (--calibration FILE,
or calibration in the config), classify and enqueue give each record a
prediction_set and set_size, and a job's review list becomes the images
whose set does not hold exactly one class. Randomised sets (the default)
cover 1 − alpha exactly and leave some sets empty (those go to review);
--sets non-randomized never leaves one empty but makes larger sets
(docs/calibration.md has both measured).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !(alpha > 0 && alpha < 1) {
				return usageError{fmt.Errorf("--alpha %g: want between 0 and 1, e.g. 0.1 for 90%% coverage", alpha)}
			}
			if out == "" {
				return usageError{errors.New("calibrate needs --out FILE")}
			}
			if sets != calibrate.Randomized && sets != calibrate.NonRandomized {
				return usageError{fmt.Errorf("--sets %q: want %s or %s", sets, calibrate.Randomized, calibrate.NonRandomized)}
			}
			c, err := a.calibrate(cmd.Context(), args[0], labelsPath, calibrate.Options{Method: method, Alpha: alpha, Sets: sets, Seed: seed})
			if err != nil {
				return err
			}
			data, err := json.MarshalIndent(c, "", " ")
			if err != nil {
				return fmt.Errorf("calibration: %w", err)
			}
			if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
				return err
			}
			h := c.HeldOut
			fmt.Fprintf(a.stdout, "%s (%s) α=%g: temperature %.3f, threshold %.4f on %d images; held out (%d): coverage %.2f%%, "+
				"mean set size %.2f, empty %.2f%%, review %.2f%%, error among accepted %.2f%%; wrote %s\n", c.Method, c.Sets, c.Alpha,
				c.Temperature, c.Threshold, c.CalibrationSize, h.Images, 100*h.Coverage, h.MeanSetSize, 100*h.Empty, 100*h.Review,
				100*h.AcceptedError, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&labelsPath, "labels", "", "CSV of key,label (default: DATA has one subfolder per class)")
	f.StringVar(&out, "out", "", "calibration file to write")
	f.StringVar(&method, "method", calibrate.APS, "conformal score: aps, raps or lac")
	f.Float64Var(&alpha, "alpha", 0.1, "miscoverage: the sets hold the true class for 1 − alpha of images")
	f.StringVar(&sets, "sets", calibrate.Randomized, "randomized (coverage 1 − alpha exactly; a set may be empty) or non-randomized (never empty, larger)")
	f.Uint64Var(&seed, "split-seed", 0, "seed of the calibration / held-out split")
	addSamplerFlags(f)
	return cmd
}

// calibrate classifies DATA's labelled images and fits a calibration.
func (a *app) calibrate(ctx context.Context, dir, labelsPath string, o calibrate.Options) (*calibrate.Calibration, error) {
	eng, m, err := a.engine(0, 64)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	meta := m.Metadata()
	files, labels, err := labelled(dir, labelsPath, meta)
	if err != nil {
		return nil, usageError{err}
	}
	var post [][]float64
	var ys []int
	_, err = eng.Stream(ctx, len(files), 64, func(_ context.Context, i int) classify.Item {
		b, err := os.ReadFile(files[i])
		return classify.Item{Key: files[i], Data: b, Err: err}
	}, func(r classify.Record) error {
		if r.Error == "" && r.Frame == 0 {
			post = append(post, r.Posterior)
			ys = append(ys, labels[r.Key])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c, err := calibrate.Fit(post, ys, o)
	if err != nil {
		return nil, usageError{err}
	}
	c.ModelSHA256, _, _ = m.Identity()
	return c, nil
}

// labelled lists the labelled files: DATA's subfolders named by class, or
// the CSV's keys (relative to DATA).
func labelled(dir, labelsPath string, meta *modelmeta.Metadata) ([]string, map[string]int, error) {
	index := map[string]int{}
	for i, n := range meta.ClassNames {
		index[n] = i
	}
	classOf := func(s string) (int, error) {
		if i, ok := index[s]; ok {
			return i, nil
		}
		if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(meta.ClassNames) {
			return i, nil
		}
		return 0, fmt.Errorf("label %q is not one of the model's %d classes", s, len(meta.ClassNames))
	}
	if labelsPath == "" {
		return labelsFromFolders(dir, classOf)
	}
	return labelsFromCSV(dir, labelsPath, classOf)
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
	fh, err := os.Open(labelsPath)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	r, err := labelcsv.NewReader(fh)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", labelsPath, err)
	}
	var files []string
	labels := map[string]int{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return files, labels, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", labelsPath, err)
		}
		y, err := classOf(row.Label)
		if err != nil {
			return nil, nil, fmt.Errorf("%s line %d: %w", labelsPath, row.Line, err)
		}
		path := filepath.Join(dir, filepath.FromSlash(row.Key))
		if _, dup := labels[path]; dup || row.Key == "" {
			return nil, nil, fmt.Errorf("%s line %d: key %q is empty or given twice", labelsPath, row.Line, row.Key)
		}
		files, labels[path] = append(files, path), y
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
