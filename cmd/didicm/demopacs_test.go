//go:build demo

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemoPACSSendsAValidReportIntoItsStudy runs the demo's PACS part: a
// real Orthanc, the demo's slices read over DICOMweb by a real worker, and
// a report kept in DIR/pacs that dciodvfy finds no error in, whose
// Orthanc page the demo names.
func TestDemoPACSSendsAValidReportIntoItsStudy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, errs, code := run(t, "demo-pacs", "--model", demoModel, "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "pacs", "demo-pacs", "sr", "*.dcm"))
	if err != nil || len(files) != 1 {
		t.Fatalf("reports %v (%v), want the demo study's one\n%s", files, err, out)
	}
	if !strings.Contains(out, "file:     "+files[0]) ||
		!regexp.MustCompile(`orthanc:  http://127\.0\.0\.1:\d+/app/explorer\.html#instance\?uuid=[0-9a-f-]{44}`).MatchString(out) {
		t.Fatalf("the demo does not say where the report is:\n%s", out)
	}
	vfy, _ := exec.Command("dciodvfy", files[0]).CombinedOutput()
	if strings.Contains(string(vfy), "Error") || !strings.Contains(string(vfy), "ComprehensiveSR") {
		t.Fatalf("dciodvfy:\n%s", vfy)
	}
	if strings.Contains(out, "DEMO^") || strings.Contains(errs, "DEMO^") {
		t.Fatal("the demo printed the slices' patient name")
	}
	kept := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(kept, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := run(t, "demo-pacs", "--model", demoModel, "--dir", dir); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("the rerun removed a file it did not write: %v", err)
	}
}

func TestDemoPACSNeverDeletesAFolderItDidNotMake(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pacs"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "demo-pacs", "--model", demoModel, "--dir", dir)
	if code != 2 || !strings.Contains(errs, "not made by the demo") {
		t.Fatalf("exit %d, %q; want 2 and a refusal", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "pacs")); err != nil {
		t.Fatalf("the user's folder is gone: %v", err)
	}
}
