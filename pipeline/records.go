package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/didicm/didicm/jobs"
)

// EachRecord calls fn with every record of the job's first batches
// batches, in batch order and, within a batch, in the order written. It
// holds one batch's results at a time. Results written as Parquet are an
// error wrapping jobs.ErrParquetResults.
func EachRecord(ctx context.Context, store *jobs.Store, batches int, fn func(Record) error) error {
	for i := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := store.ReadResults(ctx, i)
		if err != nil {
			return err
		}
		if err := eachLine(data, fn); err != nil {
			return fmt.Errorf("%s: %w", store.Layout().Results(i), err)
		}
	}
	return nil
}

// eachLine decodes the JSON Lines records of one results file.
func eachLine(data []byte, fn func(Record) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return sc.Err()
}
