package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/didicm/didicm/storage"
)

func TestTheStoreKeepsEachObjectOfAJobUnderItsLayout(t *testing.T) {
	ctx := context.Background()
	b, err := storage.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ref := Ref{OutputURL: "mem://", Prefix: "out", ID: "night"}
	s, err := NewStore(b, ref)
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{ID: "night", InputURL: "mem://", OutputURL: "mem://", OutputPrefix: "out"}
	spec.Defaults()
	if err := s.WriteSpec(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadSpec(ctx); err != nil || got.ID != "night" || got.BatchSize != spec.BatchSize {
		t.Fatalf("spec read back: %+v, %v", got, err)
	}
	if _, err := s.ReadManifest(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("manifest before the snapshot: %v, want not found", err)
	}
	if err := s.WriteBatchKeys(ctx, 3, []string{"a.png", "b.png"}); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.ReadBatchKeys(ctx, 3); err != nil || len(keys) != 2 {
		t.Fatalf("batch keys: %v, %v", keys, err)
	}
	for _, i := range []int{0, 2} {
		if err := s.WriteResults(ctx, i, []byte("{}\n"), "test"); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := s.DoneBatches(ctx); err != nil || len(done) != 2 {
		t.Fatalf("done batches: %v, %v", done, err)
	}
	if ok, _ := b.Exists(ctx, "out/night/results/batch-000002.jsonl"); !ok {
		t.Fatal("results are not where the layout says")
	}
	if err := s.WriteFailure(ctx, Failure{Batch: 1, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	if fs, err := s.Failures(ctx); err != nil || len(fs) != 1 || fs[0].Error != "boom" {
		t.Fatalf("failures: %v, %v", fs, err)
	}
	if err := s.DeleteFailure(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if fs, _ := s.Failures(ctx); len(fs) != 0 {
		t.Fatalf("failure kept after delete: %v", fs)
	}
	if wrote, err := s.WritePlanOnce(ctx, map[string]int{"a": 1}); !wrote || err != nil {
		t.Fatalf("first plan: %v, %v", wrote, err)
	}
	if wrote, err := s.WritePlanOnce(ctx, map[string]int{"a": 2}); wrote || err != nil {
		t.Fatalf("second plan written: %v, %v", wrote, err)
	}
	if err := b.Write(ctx, s.Layout().Spec(), []byte("{not json"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadSpec(ctx); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a broken spec reads as %v, want ErrMalformed", err)
	}
}

func TestTwoBucketsWithTheSameJobAreTwoJobs(t *testing.T) {
	a := Ref{OutputURL: "s3://a", Prefix: "out", ID: "j"}
	b := Ref{OutputURL: "s3://b", Prefix: "out", ID: "j"}
	if a.Key() == b.Key() {
		t.Fatal("same key for two buckets")
	}
}
