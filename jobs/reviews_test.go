package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/storage"
)

func reviewStore(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenStore(context.Background(), Ref{OutputURL: "file://" + dir, Prefix: "out", ID: "night"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestTwoSessionsOfOneReviewerWriteTheirOwnObjects(t *testing.T) {
	ctx := context.Background()
	s, dir := reviewStore(t)
	old := filepath.Join(dir, "out", "night", "reviews", "ana.jsonl")
	os.MkdirAll(filepath.Dir(old), 0o755)
	os.WriteFile(old, []byte(`{"key":"k0"}`+"\n"), 0o644)

	a, err := s.NewReviewSession("ana")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.NewReviewSession("ana")
	if a.ID() == b.ID() {
		t.Fatalf("two sessions share the id %s", a.ID())
	}
	for i, rs := range []*ReviewSession{a, b, a} {
		key, line, err := rs.Append(ctx, fmt.Appendf(nil, `{"key":"k%d"}`+"\n", i+1))
		if err != nil || !rs.Owns(key) || line != i/2 {
			t.Fatalf("append %d: %s line %d, %v", i, key, line, err)
		}
	}
	objs, err := s.ListReviews(ctx)
	if err != nil || len(objs) != 3 {
		t.Fatalf("listed %+v, %v", objs, err)
	}
	var all []string
	for _, o := range objs {
		if o.Reviewer != "ana" {
			t.Errorf("%s: reviewer %q", o.Key, o.Reviewer)
		}
		data, err := s.ReadReviewObject(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, strings.Fields(string(data))...)
	}
	if got := strings.Join(all, " "); got != `{"key":"k0"} {"key":"k1"} {"key":"k3"} {"key":"k2"}` &&
		got != `{"key":"k0"} {"key":"k2"} {"key":"k1"} {"key":"k3"}` {
		t.Fatalf("stored %s", got)
	}
	if _, err := s.ReadReviewObject(ctx, s.Layout().Spec()); !errors.Is(err, storage.ErrBadKey) {
		t.Fatalf("read the spec as decisions: %v", err)
	}
}

func TestASessionStartsANewSegmentWhenOneIsFull(t *testing.T) {
	ctx := context.Background()
	s, _ := reviewStore(t)
	rs, _ := s.NewReviewSession("ana")
	line := []byte(`{"key":"` + strings.Repeat("x", 1000) + `"}` + "\n")
	keys := map[string]int{}
	for range 3 * ReviewSegmentBytes / len(line) {
		key, _, err := rs.Append(ctx, line)
		if err != nil {
			t.Fatal(err)
		}
		keys[key]++
	}
	objs, _ := s.ListReviews(ctx)
	if len(keys) != 4 || len(objs) != 4 {
		t.Fatalf("segments %v, listed %d", keys, len(objs))
	}
	for _, o := range objs {
		if o.Size > ReviewSegmentBytes {
			t.Errorf("%s holds %d bytes", o.Key, o.Size)
		}
	}
}

func TestADecisionThatWasNotStoredIsNotPartOfTheSession(t *testing.T) {
	ctx := context.Background()
	b, err := storage.Open(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, _ := NewStore(b, Ref{OutputURL: b.URL, Prefix: "out", ID: "night"})
	rs, _ := s.NewReviewSession("ana")
	rs.Append(ctx, []byte("1\n"))
	b.FailWrite = func(string) error { return errors.New("disk full") }
	if _, _, err := rs.Append(ctx, []byte("2\n")); err == nil {
		t.Fatal("a failed write was acknowledged")
	}
	b.FailWrite = nil
	key, line, err := rs.Append(ctx, []byte("3\n"))
	if err != nil || line != 1 {
		t.Fatalf("append after a failure: line %d, %v", line, err)
	}
	if data, _ := s.ReadReviewObject(ctx, key); string(data) != "1\n3\n" {
		t.Fatalf("stored %q", data)
	}
	if _, _, err := rs.Append(ctx, []byte("no newline")); err == nil {
		t.Fatal("a partial line was taken")
	}
}

func TestTheReviewListIsReadAsAStream(t *testing.T) {
	ctx := context.Background()
	s, _ := reviewStore(t)
	if _, err := s.OpenReviewList(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("before the summary: %v", err)
	}
	if err := s.WriteSummary(ctx, map[string]int{}, []byte("a\nb\n")); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenReviewList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if data, err := io.ReadAll(r); err != nil || string(data) != "a\nb\n" {
		t.Fatalf("read %q, %v", data, err)
	}
}
