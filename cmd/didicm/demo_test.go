//go:build demo

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoModel = "../../models/didirn-mnist-7px-5pct.onnx"

func TestDemoNeverDeletesAFolderItDidNotMake(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "thesis.tex")
	if err := os.WriteFile(mine, []byte("years of work"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"demo"}, {"demo", "--archive-only"}} {
		_, errs, code := run(t, append(args, "--model", demoModel, "--dir", dir, "--images", "10")...)
		if code != 2 || !strings.Contains(errs, "not made by the demo") {
			t.Fatalf("%v on a user's folder: exit %d, %q; want 2 and a refusal", args, code, errs)
		}
	}
	if data, err := os.ReadFile(mine); err != nil || string(data) != "years of work" {
		t.Fatalf("the user's file is gone or changed: %q, %v", data, err)
	}
}

func TestDemoRerunRemovesOnlyWhatItWrote(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	args := []string{"demo", "--archive-only", "--model", demoModel, "--dir", dir}
	if _, errs, code := run(t, append(args, "--images", "30")...); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	kept := filepath.Join(dir, "notes.txt") // a file the user put beside the demo's
	if err := os.WriteFile(kept, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, append(args, "--images", "10")...); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("the rerun removed a file it did not write: %v", err)
	}
	var pngs int
	filepath.WalkDir(filepath.Join(dir, "archive"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(filepath.Base(p), "digit-") {
			pngs++
		}
		return nil
	})
	if pngs != 10 {
		t.Fatalf("%d digits after the rerun with --images 10: the old archive was not replaced", pngs)
	}
}
