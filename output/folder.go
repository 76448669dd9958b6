package output

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/review"
)

// Folder writes the images the agreement rule labels (labels.go) as a
// labelled folder that the training toolkit trains on as it is
// (`python3 -m didicm_train train --data DIR`): one subfolder per class of
// the job (every class, so a model trained on it has the job's classes,
// empty ones included), holding each image under its object key's path.
//
//   - A whole file is a hard link to the input file when the input is a
//     file:// bucket on the same file system (a regular file inside the
//     bucket's folder), else a copy read from the input source; DICOM stays
//     DICOM. A file whose name the toolkit would not read as an image
//     (no image extension, not DICOM) gets the extension of its format.
//   - A frame of a multi-frame DICOM file becomes that one frame as a PNG
//     (FramePNG, under Intensity), named OBJECT#frame=N.png: the whole file
//     would teach every frame the one frame's class.
//   - Video and log frames are not written (listed as skipped).
//
// Beside the classes: manifest.jsonl (ManifestRow per labelled image,
// written or skipped), conflicts.jsonl and export.json (what made the
// folder). A rerun replaces the class subfolders export.json lists; a
// folder that holds anything else is refused.
type Folder struct {
	// Dest must be a local folder.
	Dest *Dest
	// Intensity renders DICOM frames; the zero value is bits (give the
	// transform the model will be trained with, `train --intensity`).
	Intensity imaging.Intensity
	// Limits bound each file read and frame decoded: zero MaxBytes means
	// the job's max_bytes, other zero fields imaging's defaults.
	Limits imaging.Limits
	// Written counts what the last Write wrote.
	Written Counts
}

var _ Writer = (*Folder)(nil)

// The folder export's own files.
const (
	ManifestFile = "manifest.jsonl"
	MarkerFile   = "export.json"
)

// ManifestRow says where one labelled image came from and who decided it.
type ManifestRow struct {
	// File is the image's path in the folder (slash-separated); empty
	// when Skipped.
	File   string `json:"file,omitempty"`
	Key    string `json:"key"`    // the record's key
	Object string `json:"object"` // the input object
	Frame  int    `json:"frame,omitempty"`
	Class  string `json:"class"`
	// How is link, copy or png (a DICOM frame rendered).
	How       string            `json:"how,omitempty"`
	DecidedAt string            `json:"decided_at"`
	Decisions []review.Decision `json:"decisions"`
	// Skipped says why the image is not in the folder.
	Skipped string `json:"skipped,omitempty"`
}

// marker is export.json.
type marker struct {
	Format  string   `json:"format"`
	Job     string   `json:"job"`
	Created string   `json:"created"`
	Folders []string `json:"folders"`
	Counts  *Counts  `json:"counts,omitempty"`
}

// markerFormat versions export.json and manifest.jsonl.
const markerFormat = "didicm-export-folder/1"

// Name is "folder".
func (*Folder) Name() string { return "folder" }

// Write reads the job's decisions and writes the folder.
func (w *Folder) Write(ctx context.Context, job *Job) error {
	if w.Dest == nil {
		return errors.New("folder export: no destination")
	}
	dir, ok := w.Dest.Local()
	if !ok {
		return errors.New("folder export: the destination must be a local folder")
	}
	ds, err := ReadDecisions(ctx, job.Store)
	if err != nil {
		return err
	}
	folders, err := classFolders(job.Spec.ClassNames, ds)
	if err != nil {
		return err
	}
	mk := marker{Format: markerFormat, Job: job.Spec.ID, Created: time.Now().UTC().Format(time.RFC3339), Folders: sortedValues(folders)}
	if err := claim(dir, mk); err != nil {
		return err
	}
	p, err := newPlacer(ctx, job.Spec, dir, w.Limits, w.Intensity)
	if err != nil {
		return err
	}
	defer p.close()
	w.Written = Counts{}
	if err := w.writeImages(ctx, ds, folders, p); err != nil {
		return err
	}
	if w.Written.Conflicts, err = WriteConflicts(ctx, w.Dest, ds); err != nil {
		return err
	}
	mk.Counts = &w.Written
	return writeMarker(ctx, w.Dest, mk)
}

// writeImages places each labelled image and writes the manifest.
func (w *Folder) writeImages(ctx context.Context, ds *Decisions, folders map[string]string, p *placer) error {
	return w.Dest.Write(ctx, ManifestFile, "application/x-ndjson", func(out io.Writer) error {
		e := json.NewEncoder(out)
		e.SetEscapeHTML(false)
		return ds.Each(func(l Label) error {
			row, err := p.place(ctx, l, folders)
			if err != nil {
				return err
			}
			if row.Skipped != "" {
				w.Written.Skipped++
			} else {
				w.Written.Labels++
			}
			return e.Encode(row)
		}, func(Conflict) error { return nil })
	})
}

// classFolders names each class's subfolder: every class of the job (or,
// for a job without class names, each class decided).
func classFolders(names []string, ds *Decisions) (map[string]string, error) {
	classes := slices.Clone(names)
	if len(classes) == 0 {
		_ = ds.Each(func(l Label) error { classes = append(classes, l.Class); return nil }, func(Conflict) error { return nil })
	}
	folders, taken := map[string]string{}, map[string]string{}
	for _, c := range classes {
		if c == "" || folders[c] != "" {
			continue
		}
		f := folderName(c)
		if other, ok := taken[f]; ok {
			return nil, fmt.Errorf("classes %q and %q would share the folder %q", other, c, f)
		}
		folders[c], taken[f] = f, c
	}
	return folders, nil
}

// folderName makes a class name one path element.
func folderName(class string) string {
	f := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, class)
	if f == "." || f == ".." || f == ManifestFile || f == MarkerFile || f == ConflictsFile {
		f = "_" + f
	}
	return f
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// claim makes dir this export's: it must be empty or an earlier export
// (export.json), whose class subfolders and files are removed. The new
// marker is written first, so a failed export is still recognised.
func claim(dir string, mk marker) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var old marker
	if len(entries) > 0 {
		data, err := os.ReadFile(filepath.Join(dir, MarkerFile))
		if err != nil || json.Unmarshal(data, &old) != nil || old.Format != markerFormat {
			return fmt.Errorf("folder export: %s is not empty and holds no earlier export (%s): give a new or empty folder", dir, MarkerFile)
		}
	}
	for _, f := range append(old.Folders, ManifestFile, ConflictsFile) {
		if filepath.IsLocal(f) && !strings.ContainsAny(f, `/\`) {
			if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
				return err
			}
		}
	}
	for _, f := range mk.Folders {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
			return err
		}
	}
	return writeLocal(filepath.Join(dir, MarkerFile), func(w io.Writer) error { return encodeIndent(w, mk) })
}

func writeMarker(ctx context.Context, d *Dest, mk marker) error {
	return d.Write(ctx, MarkerFile, "application/json", func(w io.Writer) error { return encodeIndent(w, mk) })
}

func encodeIndent(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", " ")
	e.SetEscapeHTML(false)
	return e.Encode(v)
}

// keyOf parses a record key; one that does not parse (a job from before
// keys had one form) names its object.
func keyOf(key string) recordkey.Key {
	k, err := recordkey.Parse(key)
	if err != nil {
		return recordkey.Of(key)
	}
	return k
}
