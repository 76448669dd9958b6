package pipeline_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/pipeline"
)

func lineOf(t *testing.T, r *pipeline.Record) []byte {
	t.Helper()
	b, err := r.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func resultRecord(post []float64) pipeline.Record {
	agree := 0.5
	return pipeline.Record{Record: classify.Record{Key: "in/<&>\"\u2028\xff.jpg", Class: "c", ClassIndex: 0, Posterior: post,
		MaxProb: 0.7, Margin: 0.4, Entropy: 0.8, EntropyNorm: 0.73, ChainAgreement: &agree, Sampler: "cl", Steps: 2,
		Chains: 4, NFE: 8, Frame: 2}, Job: "night-\"1\"", Batch: 12, ModelSHA256: "ab12", ORTVersion: "1.29.0", Provider: "cpu"}
}

func TestResultLineIsEncodingJSONsWithoutAPosterior(t *testing.T) {
	for _, r := range []pipeline.Record{resultRecord(nil),
		{Record: classify.Record{Key: "bad.png", ClassIndex: -1, Error: "corrupt", ErrorReason: "corrupt"}}} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := lineOf(t, &r); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

func TestResultLineParsesBackWithThePosteriorAtFloat32(t *testing.T) {
	post := []float64{0.7, 0.2, 1.0 / 30, 1e-9, 1e-50, 0}
	r := resultRecord(post)
	var got, want pipeline.Record
	if err := json.Unmarshal(lineOf(t, &r), &got); err != nil {
		t.Fatal(err)
	}
	std, _ := json.Marshal(r)
	if err := json.Unmarshal(std, &want); err != nil {
		t.Fatal(err)
	}
	for i, p := range post {
		if math.Abs(p) < 0x1p-126 && got.Posterior[i] != p || float32(got.Posterior[i]) != float32(p) {
			t.Errorf("posterior[%d] = %s, want %v at float32", i, strconv.FormatFloat(got.Posterior[i], 'g', -1, 64), p)
		}
	}
	got.Posterior, want.Posterior = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the line parses to\n%+v\nencoding/json's to\n%+v", got, want)
	}
}

func TestResultLineRefusesANaN(t *testing.T) {
	r := resultRecord([]float64{math.NaN(), 1})
	if b, err := r.AppendJSON([]byte("x")); err == nil || string(b) != "x" {
		t.Fatalf("AppendJSON = %q, %v; want the input back and an error", b, err)
	}
}
