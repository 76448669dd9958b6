package jobs

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/didicm/didicm/storage"
)

func TestAGroupFileIsReplacedWholeOrRemovedWhenEmpty(t *testing.T) {
	ctx := context.Background()
	b, err := storage.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := NewStore(b, Ref{OutputURL: "mem://", Prefix: "out", ID: "night"})
	if err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		r, err := s.OpenGroupFile(ctx, StudiesFile)
		if errors.Is(err, storage.ErrNotFound) {
			return "(none)"
		}
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	lines := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := s.WriteGroupFile(ctx, StudiesFile, lines("{\"a\":1}\n")); err != nil || read() != "{\"a\":1}\n" {
		t.Fatalf("first write: %v, %q", err, read())
	}
	if s.Layout().Group(StudiesFile) != "out/night/studies.jsonl" {
		t.Errorf("key %s", s.Layout().Group(StudiesFile))
	}
	boom := errors.New("boom")
	failing := func(w io.Writer) error {
		_, _ = io.WriteString(w, "{\"partial\":\""+strings.Repeat("x", 1<<20)) // past the buffer: the object is open
		return boom
	}
	if err := s.WriteGroupFile(ctx, StudiesFile, failing); !errors.Is(err, boom) || read() != "{\"a\":1}\n" {
		t.Fatalf("a failed write gave %v and left %q", err, read())
	}
	if err := s.WriteGroupFile(ctx, StudiesFile, lines("")); err != nil || read() != "(none)" {
		t.Fatalf("an empty write gave %v and left %q", err, read())
	}
	if err := s.WriteGroupFile(ctx, "../spec.json", lines("x")); err == nil {
		t.Fatal("wrote a file that is not a group file")
	}
}
