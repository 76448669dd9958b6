package workers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

// A link in a file:// archive to a file outside it is an error record
// that names neither the target nor its content; a link to a file inside
// the archive is classified as that file.
func TestALinkOutOfTheArchiveIsAnErrorRecordThatQuotesNothing(t *testing.T) {
	h := newHarness(t)
	h.start()
	dir, outside := t.TempDir(), t.TempDir()
	url := "file://" + dir
	b, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	writeArchive(t, b, "in", 3)
	secret := filepath.Join(outside, "passwd")
	if err := os.WriteFile(secret, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"in/passwd.png": secret, "in/inside.png": filepath.Join(dir, "in/d0/img-000.png")} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	spec := jobs.Spec{ID: "links", InputURL: url, InputPrefix: "in", OutputURL: url, OutputPrefix: "out", BatchSize: 4, Sampler: "cp"}
	h.enqueue(spec)
	wait(t, spec)
	lay, err := jobs.NewLayout("out", "links")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, r := range readRecords(t, b, lay) {
		switch r.Key {
		case "in/passwd.png":
			seen++
			if r.ErrorReason != "read" || !strings.Contains(r.Error, "outside the bucket") ||
				strings.Contains(r.Error, "root") || strings.Contains(r.Error, outside) {
				t.Fatalf("the link out: error %q (%s); want a read error naming neither the target nor its content", r.Error, r.ErrorReason)
			}
		case "in/inside.png":
			seen++
			if r.Error != "" {
				t.Fatalf("the link inside: %s", r.Error)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("%d of the two links have a record", seen)
	}
}
