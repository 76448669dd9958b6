package pipeline_test

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// parquetRecords are four records as a worker makes them: CP with the full
// posterior, CL (chain agreement) with a tie, an engine top-k record, and a
// failed image.
func parquetRecords() []pipeline.Record {
	meta := func(r classify.Record, batch int) pipeline.Record {
		return pipeline.Record{Record: r, Job: "night", Batch: batch, ModelSHA256: "abc", ORTVersion: "1.29.0", Provider: "cpu"}
	}
	agree := 0.75
	return []pipeline.Record{
		meta(classify.Record{Key: "a.png", Class: "c2", ClassIndex: 2, Posterior: []float64{0.1, 0.2, 0.4, 0.3},
			MaxProb: 0.4, Margin: 0.1, Entropy: 1.28, EntropyNorm: 0.92, Sampler: "cp", Steps: 8, NFE: 8}, 3),
		meta(classify.Record{Key: "b.dcm#frame=2", Class: "c1", ClassIndex: 1, Posterior: []float64{0.25, 0.5, 0, 0.25},
			MaxProb: 0.5, Margin: 0.25, ChainAgreement: &agree, Sampler: "cl", Steps: 8, Chains: 16, NFE: 128,
			StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", Frame: 2}, 3),
		meta(classify.Record{Key: "c.png", Class: "c3", ClassIndex: 3, MaxProb: 0.6, Sampler: "cp", Steps: 8, NFE: 8,
			TopK: []classify.ClassProb{{Class: "c3", Index: 3, Prob: 0.6}, {Class: "c0", Index: 0, Prob: 0.2}}}, 3),
		meta(classify.Record{Key: "d.png", ClassIndex: -1, Sampler: "cp", Steps: 8, Error: "png: invalid format",
			ErrorReason: "corrupt"}, 3),
	}
}

var parquetClasses = []string{"c0", "c1", "c2", "c3"}

func encodeParquet(t *testing.T, spec jobs.Spec, classes []string, recs []pipeline.Record) []byte {
	t.Helper()
	pq := pipeline.NewParquetResults(spec, classes, len(recs))
	for _, r := range recs {
		pq.Add(r)
	}
	data, err := pq.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParquetResultsRoundTripWithTheirColumns(t *testing.T) {
	recs := parquetRecords()
	data := encodeParquet(t, jobs.Spec{Posterior: "full", TopK: 2}, parquetClasses, recs)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"key", "class", "class_index", "max_prob", "margin", "entropy", "entropy_norm", "chain_agreement",
		"sampler", "steps", "chains", "nfe", "error", "error_reason", "study_uid", "series_uid", "sop_uid", "frame", "prediction_set", "set_size",
		"job", "batch", "model_sha256", "ort_version", "provider", "top_k_class", "top_k_prob", "posterior"}
	var got []string
	for _, field := range f.Schema().Fields() {
		got = append(got, field.Name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("columns %v\nwant    %v", got, want)
	}
	fields := map[string]parquet.Field{}
	for _, field := range f.Schema().Fields() {
		fields[field.Name()] = field
	}
	if !fields["chain_agreement"].Optional() || fields["max_prob"].Optional() || fields["key"].Optional() {
		t.Fatal("only chain_agreement is nullable")
	}
	for name, elem := range map[string]string{"top_k_class": "BYTE_ARRAY", "top_k_prob": "DOUBLE", "posterior": "DOUBLE"} {
		lt := fields[name].Type().LogicalType()
		if _, ok := lt.Value.(*format.ListType); lt == nil || !ok {
			t.Fatalf("%s is not a LIST: %v", name, fields[name].Type())
		}
		leaf := fields[name].Fields()[0].Fields()[0] // list.element
		if leaf.Type().Kind().String() != elem {
			t.Fatalf("%s elements are %v, want %s", name, leaf.Type().Kind(), elem)
		}
	}
	if f.NumRows() != int64(len(recs)) || len(f.RowGroups()) != 1 {
		t.Fatalf("%d rows in %d row groups", f.NumRows(), len(f.RowGroups()))
	}
	for _, cc := range f.Metadata().RowGroups[0].Columns {
		if cc.MetaData.Codec != format.Zstd {
			t.Fatalf("column %v compressed with %v", cc.MetaData.PathInSchema, cc.MetaData.Codec)
		}
	}

	rows, err := parquet.Read[pipeline.ParquetRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	wantTop := []struct {
		class []string
		prob  []float64
	}{
		{[]string{"c2", "c3"}, []float64{0.4, 0.3}},
		{[]string{"c1", "c0"}, []float64{0.5, 0.25}}, // c0 and c3 tie: the lower index
		{[]string{"c3", "c0"}, []float64{0.6, 0.2}},  // as the engine kept them
		{nil, nil},
	}
	for i, r := range recs {
		row := rows[i]
		if row.Key != r.Key || row.Class != r.Class || row.ClassIndex != int64(r.ClassIndex) || row.MaxProb != r.MaxProb ||
			row.Margin != r.Margin || row.Entropy != r.Entropy || row.EntropyNorm != r.EntropyNorm ||
			row.Sampler != r.Sampler || row.Steps != int64(r.Steps) || row.Chains != int64(r.Chains) ||
			row.NFE != int64(r.NFE) || row.Error != r.Error || row.ErrorReason != r.ErrorReason ||
			row.StudyUID != r.StudyUID || row.SeriesUID != r.SeriesUID || row.SOPUID != r.SOPUID ||
			row.Frame != int64(r.Frame) || row.Job != r.Job || row.Batch != int64(r.Batch) ||
			row.ModelSHA256 != r.ModelSHA256 || row.ORTVersion != r.ORTVersion || row.Provider != r.Provider {
			t.Fatalf("row %d: %+v\nfrom record %+v", i, row, r)
		}
		if (row.ChainAgreement == nil) != (r.ChainAgreement == nil) ||
			row.ChainAgreement != nil && *row.ChainAgreement != *r.ChainAgreement {
			t.Fatalf("row %d chain_agreement %v, record %v", i, row.ChainAgreement, r.ChainAgreement)
		}
		if !slices.Equal(row.Posterior, r.Posterior) {
			t.Fatalf("row %d posterior %v, record %v", i, row.Posterior, r.Posterior)
		}
		if !slices.Equal(row.TopKClass, wantTop[i].class) || !slices.Equal(row.TopKProb, wantTop[i].prob) {
			t.Fatalf("row %d top-k %v %v, want %v %v", i, row.TopKClass, row.TopKProb, wantTop[i].class, wantTop[i].prob)
		}
	}
}

func TestParquetResultsLeaveOutTheFullPosteriorForTopKJobsAndLargeK(t *testing.T) {
	many := make([]string, pipeline.MaxParquetPosteriorClasses+1)
	post := make([]float64, len(many))
	for i := range many {
		many[i] = fmt.Sprintf("class-%04d", i)
		post[i] = float64(i%97) / 1e5
	}
	big := pipeline.Record{Record: classify.Record{Key: "x.png", Class: "class-0096", ClassIndex: 96, Posterior: post}}
	for name, tc := range map[string]struct {
		spec    jobs.Spec
		classes []string
		recs    []pipeline.Record
		k       int
	}{
		"posterior top-k":          {jobs.Spec{Posterior: "top-k", TopK: 3}, parquetClasses, parquetRecords(), 2},
		"K above the column limit": {jobs.Spec{Posterior: "full"}, many, []pipeline.Record{big}, jobs.DefaultTopK},
	} {
		t.Run(name, func(t *testing.T) {
			data := encodeParquet(t, tc.spec, tc.classes, tc.recs)
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.Schema().Lookup("posterior"); ok {
				t.Fatal("a posterior column")
			}
			rows, err := parquet.Read[pipeline.ParquetRow](bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tc.recs) || len(rows[0].TopKClass) < tc.k || len(rows[0].TopKProb) != len(rows[0].TopKClass) {
				t.Fatalf("rows %+v", rows)
			}
			if name == "K above the column limit" {
				// i%97 peaks at 96, then 96+97, 96+2*97, ...: the lowest indices first.
				want := []string{"class-0096", "class-0193", "class-0290", "class-0387", "class-0484"}
				if !reflect.DeepEqual(rows[0].TopKClass, want) {
					t.Fatalf("top-k %v, want %v", rows[0].TopKClass, want)
				}
			}
		})
	}
}

func BenchmarkParquetResults(b *testing.B) {
	recs := parquetRecords()
	batch := make([]pipeline.Record, 0, 256)
	for i := range 256 {
		batch = append(batch, recs[i%len(recs)])
	}
	spec := jobs.Spec{Posterior: "full"}
	b.ReportAllocs()
	for b.Loop() {
		pq := pipeline.NewParquetResults(spec, parquetClasses, len(batch))
		for _, r := range batch {
			pq.Add(r)
		}
		if _, err := pq.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParquetTopKOfManyClassesIsSortedWithTiesToTheLowerIndex(t *testing.T) {
	classes := make([]string, 500)
	post := make([]float64, len(classes))
	for i := range classes {
		classes[i] = fmt.Sprintf("c%03d", i)
		post[i] = float64(i%10) / 1e3 // ten values, each 50 times
	}
	rec := pipeline.Record{Record: classify.Record{Key: "x.png", Class: "c009", ClassIndex: 9, Posterior: post}}
	data := encodeParquet(t, jobs.Spec{Posterior: "full", TopK: 60}, classes, []pipeline.Record{rec})
	rows, err := parquet.Read[pipeline.ParquetRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 9; len(want) < 50; i += 10 {
		want = append(want, classes[i])
	}
	for i := 8; len(want) < 60; i += 10 {
		want = append(want, classes[i])
	}
	if got := rows[0].TopKClass; !slices.Equal(got, want) || len(rows[0].Posterior) != len(classes) {
		t.Fatalf("top-60 %v\nwant   %v", got, want)
	}
}

// A calibrated row has set_size and its set, [] when empty; an
// uncalibrated one set_size -1: the schema is the same for every row.
func TestParquetKeepsEmptyPredictionSets(t *testing.T) {
	two, zero := 2, 0
	recs := parquetRecords()[:3]
	recs[0].PredictionSet, recs[0].SetSize = []string{"c2", "c3"}, &two
	recs[1].PredictionSet, recs[1].SetSize = []string{}, &zero
	data := encodeParquet(t, jobs.Spec{Posterior: "full"}, parquetClasses, recs)
	rows, err := parquet.Read[pipeline.ParquetRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		set  []string
		size int64
	}{{[]string{"c2", "c3"}, 2}, {nil, 0}, {nil, -1}} {
		if !slices.Equal(rows[i].PredictionSet, want.set) || rows[i].SetSize != want.size {
			t.Fatalf("row %d: prediction_set %q, set_size %d; want %q, %d", i, rows[i].PredictionSet, rows[i].SetSize, want.set, want.size)
		}
	}
}
