package output_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/output"
)

// wantFolder is each image file the folder export writes for the
// reviewed job: its path and how it was made from a file:// archive.
var wantFolder = map[string]string{
	"zero/a/0.png":                   "link",
	"one/a/1.png":                    "link",
	"zero/b/4.png":                   "link",
	"two/scans/ct.dcm":               "link",
	"one/scans/cine.dcm#frame=2.png": "png",
	"one/raw/x.png":                  "link", // a PNG without an extension gets one
	output.ManifestFile:              "",
	output.ConflictsFile:             "",
	output.MarkerFile:                "",
}

func TestTheFolderExportHoldsEachLabelledImageInItsClassFolder(t *testing.T) {
	for _, tc := range []struct {
		name, how string
		inURL     func(t *testing.T) (url, dir string)
	}{
		{"a file:// archive is hard-linked", "link", func(t *testing.T) (string, string) {
			dir := t.TempDir()
			return "file://" + dir, dir
		}},
		{"an S3 archive is copied", "copy", func(t *testing.T) (string, string) {
			return s3test.Start(t, "archive"), ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inURL, inDir := tc.inURL(t)
			rv := newReviewed(t, inURL, "file://"+t.TempDir())
			dir := t.TempDir()
			w := &output.Folder{Dest: openDest(t, dir)}
			if err := w.Write(context.Background(), rv.job); err != nil {
				t.Fatal(err)
			}
			checkFolder(t, dir, tc.how)
			if inDir != "" {
				checkLinked(t, inDir, dir)
			}
			if w.Written != (output.Counts{Labels: 6, Conflicts: 3, Skipped: 1}) {
				t.Fatalf("counts %+v", w.Written)
			}
		})
	}
}

// checkFolder checks the folder's files, its manifest and the DICOM frame.
func checkFolder(t *testing.T, dir, how string) {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got[filepath.ToSlash(rel)] = ""
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := readManifest(t, dir)
	for _, r := range rows {
		if r.Skipped != "" {
			if r.Key != "gone.png" || !strings.Contains(r.Skipped, "not found") {
				t.Fatalf("skipped %+v", r)
			}
			continue
		}
		got[r.File] = r.How
	}
	want := maps.Clone(wantFolder)
	for f, h := range want {
		if h == "link" {
			want[f] = how
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("folder %v\nwant   %v", got, want)
	}
	if r := rows[slices.IndexFunc(rows, func(r output.ManifestRow) bool { return r.Key == "a/0.png" })]; len(r.Decisions) != 2 ||
		r.DecidedAt != "2026-12-02T09:00:01.000Z" || r.Class != "zero" || r.Object != "a/0.png" {
		t.Fatalf("manifest row %+v", r)
	}
	checkFrame(t, filepath.Join(dir, "one/scans/cine.dcm#frame=2.png"))
	if c := readConflicts(t, dir); !maps.Equal(c, wantConflicts) {
		t.Fatalf("conflicts %v", c)
	}
}

// checkFrame checks that frame 2 of dicomtest.NativeFrames(3, 8, 8) is
// its stored values: 200 left of column 4, 10 from it on.
func checkFrame(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Bounds().Dx() != 8 || g.Bounds().Dy() != 8 {
		t.Fatalf("frame is %T of %v", img, img.Bounds())
	}
	for x := range 8 {
		want := uint8(10)
		if x < 4 {
			want = 200
		}
		if v := g.GrayAt(x, 5).Y; v != want {
			t.Fatalf("frame pixel (%d, 5) = %d, want %d", x, v, want)
		}
	}
}

// checkLinked checks that whole files are the archive's own files.
func checkLinked(t *testing.T, in, out string) {
	t.Helper()
	for from, to := range map[string]string{"a/0.png": "zero/a/0.png", "scans/ct.dcm": "two/scans/ct.dcm", "raw/x": "one/raw/x.png"} {
		a, errA := os.Stat(filepath.Join(in, from))
		b, errB := os.Stat(filepath.Join(out, to))
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			t.Fatalf("%s is not a hard link of %s: %v %v", to, from, errA, errB)
		}
	}
}

func readManifest(t *testing.T, dir string) []output.ManifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, output.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []output.ManifestRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r output.ManifestRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// An export replaces its own earlier export, and refuses a folder that
// holds anything else.
func TestTheFolderExportReplacesItselfAndNothingElse(t *testing.T) {
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	dir := t.TempDir()
	stale := filepath.Join(dir, "zero", "stale.png")
	for i := range 2 {
		if err := (&output.Folder{Dest: openDest(t, dir)}).Write(context.Background(), rv.job); err != nil {
			t.Fatalf("export %d: %v", i+1, err)
		}
		if i == 0 {
			if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkFolder(t, dir, "link")
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := (&output.Folder{Dest: openDest(t, other)}).Write(context.Background(), rv.job)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a folder of other files was taken: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(other, "notes.txt")); string(data) != "mine" {
		t.Fatal("notes.txt was touched")
	}
}

// The folder is what the training toolkit trains on: a few steps of
// DiDiRN read every exported image (PNGs, the DICOM file and the frame)
// in the job's three classes.
func TestTheFolderExportTrainsWithTheTrainingToolkit(t *testing.T) {
	py := needTorch(t)
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	dir := t.TempDir()
	if err := (&output.Folder{Dest: openDest(t, dir)}).Write(context.Background(), rv.job); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(t.TempDir(), "model.pt")
	out := runPython(t, py, "-m", "didicm_train", "train", "--kind", "score", "--data", dir, "--steps", "3",
		"--batch", "4", "--threads", "1", "--out", ckpt)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var summary struct {
		TrainImages int `json:"train_images"`
		Steps       int `json:"steps"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("training printed no summary: %v\n%s", err, out)
	}
	if summary.TrainImages != 6 || summary.Steps != 3 || strings.Contains(out, "skipped") {
		t.Fatalf("trained on %d images in %d steps, want 6 in 3:\n%s", summary.TrainImages, summary.Steps, out)
	}
	classes := runPython(t, py, "-c", "import sys, torch; print(','.join(torch.load(sys.argv[1])['classes']))", ckpt)
	if strings.TrimSpace(classes) != "one,two,zero" {
		t.Fatalf("the model's classes are %q", classes)
	}
}

// needTorch returns the Python that runs the training toolkit, or skips
// the test when it has no PyTorch (scripts/setup.sh installs it).
func needTorch(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch, PIL, pydicom").Run(); err != nil {
		t.Skipf("%s cannot import torch, PIL and pydicom (scripts/setup.sh installs them): %v", py, err)
	}
	return py
}

// runPython runs the toolkit's Python from training/.
func runPython(t *testing.T, py string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, args...)
	cmd.Dir = "../training"
	cmd.Env = append(os.Environ(), "PYTHONPATH=.")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", py, strings.Join(args, " "), err, out)
	}
	return string(out)
}
