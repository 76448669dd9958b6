package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/didicm/didicm/storage"
)

func TestSpecFormatIsJSONLinesOrParquet(t *testing.T) {
	for _, f := range []string{"", FormatJSONL, FormatParquet} {
		s := Spec{ID: "j", InputURL: "mem://", OutputURL: "mem://", Format: f}
		s.Defaults()
		if err := s.Validate(); err != nil {
			t.Fatalf("format %q: %v", f, err)
		}
	}
	s := Spec{ID: "j", InputURL: "mem://", OutputURL: "mem://", Format: "csv"}
	s.Defaults()
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "job spec format") {
		t.Fatalf("format csv: %v", err)
	}
}

func TestParquetResultsKeyAndBatchIndex(t *testing.T) {
	l, _ := NewLayout("out", "j1")
	for format, want := range map[string]string{"": "out/j1/results/batch-000007.jsonl",
		FormatJSONL: "out/j1/results/batch-000007.jsonl", FormatParquet: "out/j1/results/batch-000007.parquet"} {
		if got := l.ResultsAs(7, format); got != want {
			t.Errorf("ResultsAs(7, %q) = %s, want %s", format, got, want)
		}
		if i, ok := BatchIndex(l.ResultsAs(7, format)); !ok || i != 7 {
			t.Errorf("BatchIndex(%s) = %d, %v", l.ResultsAs(7, format), i, ok)
		}
	}
	for _, key := range []string{"out/j1/results/batch-000007.parquet.tmp", "out/j1/results/batch-000007.parq"} {
		if _, ok := BatchIndex(key); ok {
			t.Errorf("BatchIndex(%s) recognised", key)
		}
	}
}

func TestTheStoreKeepsParquetResultsWithTheirProducer(t *testing.T) {
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
	if err := s.WriteResultsAs(ctx, 1, FormatParquet, []byte("PAR1...PAR1"), "spec:1 model:2"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteResults(ctx, 0, []byte("{}\n"), "spec:1 model:2"); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteResultsAs(ctx, 2, "csv", nil, "p"); err == nil {
		t.Fatal("wrote results in format csv")
	}
	if done, err := s.DoneBatches(ctx); err != nil || len(done) != 2 {
		t.Fatalf("done batches: %v, %v", done, err)
	}
	if prod, err := s.ResultsProducerAs(ctx, 1, FormatParquet); err != nil || prod != "spec:1 model:2" {
		t.Fatalf("parquet producer %q, %v", prod, err)
	}
	if _, err := s.ResultsProducerAs(ctx, 1, FormatJSONL); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("jsonl producer of a parquet batch: %v, want not found", err)
	}
	if data, err := s.ReadResultsAs(ctx, 1, FormatParquet); err != nil || string(data) != "PAR1...PAR1" {
		t.Fatalf("read parquet: %q, %v", data, err)
	}
	if _, err := s.ReadResults(ctx, 1); !errors.Is(err, ErrParquetResults) || !strings.Contains(err.Error(), "batch-000001.parquet") {
		t.Fatalf("JSON Lines of a parquet batch: %v, want ErrParquetResults", err)
	}
	if _, err := s.ReadResults(ctx, 5); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("results of a batch without: %v, want not found", err)
	}
}
