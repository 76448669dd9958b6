// Package groupingtest writes finished jobs whose records have studies,
// series, videos and log topics, for the tests of what reads them
// (package output's studies writer, the report, the review page).
package groupingtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/recordkey"
)

// Classes are the archive's class names.
var Classes = []string{"normal", "nodule", "effusion", "car", "pedestrian"}

// Finish writes recs as the results of a job in batches of batchSize, as
// a worker does (one JSON line each, stamped with job and batch), its
// manifest, and then its summary and review list (pipeline.Finish).
func Finish(t testing.TB, store *jobs.Store, spec jobs.Spec, recs []pipeline.Record, batchSize int) {
	t.Helper()
	ctx := context.Background()
	if err := store.WriteSpec(ctx, spec); err != nil {
		t.Fatal(err)
	}
	man := jobs.Manifest{JobID: spec.ID, Images: len(recs), Created: "2026-12-01T22:00:00Z"}
	for b := 0; b*batchSize < len(recs); b++ {
		var data []byte
		batch := recs[b*batchSize : min(len(recs), (b+1)*batchSize)]
		for i := range batch {
			r := batch[i]
			r.Job, r.Batch, r.ModelSHA256, r.ORTVersion, r.Provider = spec.ID, b, "5f1c0a", "1.29.0", "cpu"
			var err error
			if data, err = r.AppendJSON(data); err != nil {
				t.Fatal(err)
			}
			data = append(data, '\n')
		}
		if err := store.WriteResults(ctx, b, data, "test"); err != nil {
			t.Fatal(err)
		}
		man.Batches = append(man.Batches, len(batch))
	}
	if err := store.WriteManifest(ctx, man); err != nil {
		t.Fatal(err)
	}
	if done, err := pipeline.Finish(ctx, store, spec); !done || err != nil {
		t.Fatalf("finish the job: %v %v", done, err)
	}
}

// Image is a classified record of key with posterior p over Classes (its
// class, max_prob, margin and entropies as classify computes them).
func Image(key string, p []float64) pipeline.Record {
	r := pipeline.Record{Record: classify.Record{Key: key, Posterior: p, Sampler: "cp", Steps: 2, NFE: 2}}
	top, second := 0, -1
	for c, v := range p {
		if v > p[top] {
			top = c
		}
		if v > 0 {
			r.Entropy -= v * math.Log(v)
		}
	}
	for c, v := range p {
		if c != top && (second < 0 || v > p[second]) {
			second = c
		}
	}
	r.ClassIndex, r.Class, r.MaxProb = top, Classes[top], p[top]
	if second >= 0 {
		r.Margin = p[top] - p[second]
	}
	r.EntropyNorm = r.Entropy / math.Log(float64(len(p)))
	return r
}

// Failed is an error record of key.
func Failed(key string) pipeline.Record {
	return pipeline.Record{Record: classify.Record{Key: key, ClassIndex: -1, Sampler: "cp", Steps: 2,
		Error: "corrupt: truncated", ErrorReason: "corrupt"}}
}

// Posterior is a posterior over Classes sure of class c at about sure
// (0: no idea, 0.99 at most), the rest spread with noise from r.
func Posterior(r *rand.Rand, c int, sure float64) []float64 {
	sure = min(max(sure, 0), 0.99)
	p := make([]float64, len(Classes))
	sum := 0.0
	for i := range p {
		p[i] = (1 - sure) * (0.5 + r.Float64())
		sum += p[i]
	}
	for i := range p {
		p[i] *= (1 - sure) / sum
	}
	p[c] += sure
	return p
}

// Study is the records of one DICOM study (keys studies/UID/series/UID/
// instances/UID, as a PACS names them): series of images each, sure at
// about sure, every tenth image failed when failing is set.
func Study(r *rand.Rand, uid string, series, images int, class int, sure float64, failing bool) []pipeline.Record {
	var recs []pipeline.Record
	for s := range series {
		se := fmt.Sprintf("%s.%d", uid, s+1)
		for i := range images {
			sop := fmt.Sprintf("%s.%d", se, i+1)
			key := fmt.Sprintf("studies/%s/series/%s/instances/%s", uid, se, sop)
			rec := Image(key, Posterior(r, class, sure*(0.8+0.4*r.Float64())))
			if failing && i%10 == 9 {
				rec = Failed(key)
			}
			rec.StudyUID, rec.SeriesUID, rec.SOPUID = uid, se, sop
			recs = append(recs, rec)
		}
	}
	return recs
}

// Frames are the sampled frames of a video (topic "") or a log topic,
// every step for n steps: sure, except for the frames whose index is in
// hot, which are nearly uniform.
func Frames(r *rand.Rand, object, topic string, step time.Duration, n int, hot map[int]bool) []pipeline.Record {
	var recs []pipeline.Record
	for i := range n {
		at := time.Duration(i) * step
		sure := 0.9
		if hot[i] {
			sure = 0.05
		}
		rec := Image(recordkey.Of(object).OnTopic(topic).At(at).String(), Posterior(r, 3, sure))
		t := float64(at.Milliseconds()) / 1000
		rec.T, rec.Topic = &t, topic
		if topic != "" {
			lt := uint64(1_700_000_000_000_000_000 + at.Nanoseconds())
			rec.LogTime = &lt
		} else {
			idx := int64(i)
			pts := int64(at / (time.Second / 90000))
			rec.FrameIndex, rec.PTS = &idx, &pts
		}
		recs = append(recs, rec)
	}
	return recs
}
