package ort

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Version is the ONNX Runtime release this build is tested with.
const Version = "1.29.0"

// minMinor is the oldest 1.x library whose C API onnxruntime_go v1.27 accepts (API 24).
const minMinor = 24

// ErrLibrary is wrapped by every failure to find or load the shared library.
var ErrLibrary = errors.New("onnxruntime library")

var (
	envMu   sync.Mutex
	envPath string
	envVer  string
)

// LoadLibrary loads the ONNX Runtime shared library once per process and
// returns its path and version. A second call with another path fails: ONNX
// Runtime has one environment per process.
func LoadLibrary(path string, log *slog.Logger) (string, string, error) {
	envMu.Lock()
	defer envMu.Unlock()
	found, tried := findLibrary(path)
	if envPath != "" {
		if path != "" && found != envPath {
			return "", "", fmt.Errorf("%w: already loaded from %s, cannot also load %s", ErrLibrary, envPath, found)
		}
		return envPath, envVer, nil
	}
	if found == "" {
		return "", "", fmt.Errorf("%w: not found (looked in %s); set onnxruntime.library or ONNXRUNTIME_LIB, or run scripts/fetch-onnxruntime.sh",
			ErrLibrary, strings.Join(tried, ", "))
	}
	ortgo.SetSharedLibraryPath(found)
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelError()); err != nil {
		return "", "", fmt.Errorf("%w: load %s: %w (this build needs ONNX Runtime >= 1.%d, tested with %s)",
			ErrLibrary, found, err, minMinor, Version)
	}
	ver := ortgo.GetVersion()
	if !compatible(ver) {
		_ = ortgo.DestroyEnvironment()
		return "", "", fmt.Errorf("%w: %s is version %q; this build needs 1.%d or newer (tested with %s)",
			ErrLibrary, found, ver, minMinor, Version)
	}
	if log != nil {
		log.Info("onnxruntime loaded", "path", found, "version", ver)
	}
	envPath, envVer = found, ver
	return found, ver, nil
}

func compatible(ver string) bool {
	parts := strings.Split(ver, ".")
	if len(parts) < 2 || parts[0] != "1" {
		return false
	}
	minor, err := strconv.Atoi(parts[1])
	return err == nil && minor >= minMinor
}

// findLibrary returns the first existing candidate and every place it looked.
func findLibrary(path string) (string, []string) {
	var cands []string
	if path != "" {
		cands = append(cands, path)
	} else if env := os.Getenv("ONNXRUNTIME_LIB"); env != "" {
		cands = append(cands, env)
	} else {
		rel := filepath.Join(".cache", "onnxruntime", Version, "libonnxruntime.so.1")
		var roots []string
		if wd, err := os.Getwd(); err == nil {
			roots = append(roots, wd)
		}
		if exe, err := os.Executable(); err == nil {
			roots = append(roots, filepath.Dir(exe))
		}
		for _, r := range roots {
			for dir := r; ; dir = filepath.Dir(dir) {
				cands = append(cands, filepath.Join(dir, rel))
				if filepath.Dir(dir) == dir {
					break
				}
			}
		}
		cands = append(cands, "/usr/local/lib/libonnxruntime.so.1", "/usr/lib/libonnxruntime.so.1")
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			abs, _ := filepath.Abs(c)
			return abs, cands
		}
	}
	return "", cands
}
