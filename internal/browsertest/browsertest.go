// Package browsertest finds the headless Chromium that the report and
// review-page tests drive, and says where their screenshots go.
package browsertest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Chromium returns the browser's path; without one the test fails (not
// skips), as it would in CI: scripts/setup.sh installs it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("chromium not found: the browser tests need it; scripts/setup.sh installs it (apt-get install chromium)")
	return ""
}

// Screenshot is where a browser test leaves its picture of a page:
// build/test-artifacts/NAME (build/ is git-ignored).
func Screenshot(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "build", "test-artifacts", name)
}
