package classify

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/didicm/didicm/modelmeta"
)

// fake is a 3-class model whose scores favour class 2 for bright images and
// class 0 for dark ones; as a classifier it returns the same preference as logits.
type fake struct{ kind modelmeta.Kind }

func (f fake) NumClasses() int { return 3 }

func (f fake) Metadata() *modelmeta.Metadata {
	return &modelmeta.Metadata{Kind: f.kind, ClassNames: []string{"dark", "mid", "bright"}, Channels: 1, Height: 2, Width: 2,
		Mean: []float32{0}, Std: []float32{1}}
}

func (f fake) pref(im []float32) []float32 {
	return []float32{-4 * im[0], 0, 4 * im[0]}
}

func (f fake) LogScores(_ context.Context, images [][]float32, labels []int64, _ []float32, out []float32) error {
	for b, im := range images {
		p := f.pref(im)
		for i := range 3 {
			out[b*3+i] = p[i] - p[labels[b]]
		}
	}
	return nil
}

func (f fake) Logits(_ context.Context, images [][]float32, out []float32) error {
	for b, im := range images {
		copy(out[b*3:], f.pref(im))
	}
	return nil
}

func pngOf(t *testing.T, v uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRecordsKeepOrderAndTurnBrokenImagesIntoErrorRecords(t *testing.T) {
	for _, sampler := range []string{"cp", "cl"} {
		e, err := New(fake{modelmeta.Score}, Options{Sampler: sampler, Steps: 4, Chains: 64})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := e.Classify(context.Background(), []Item{
			{Key: "bright.png", Data: pngOf(t, 255)},
			{Key: "broken.png", Data: []byte("garbage")},
			{Key: "dark.png", Data: pngOf(t, 0)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || recs[0].Key != "bright.png" || recs[1].Key != "broken.png" || recs[2].Key != "dark.png" {
			t.Fatalf("%s: records %+v", sampler, recs)
		}
		if recs[0].Class != "bright" || recs[2].Class != "dark" {
			t.Errorf("%s: classes %q, %q", sampler, recs[0].Class, recs[2].Class)
		}
		if recs[1].ErrorReason != "unsupported_format" || recs[1].ClassIndex != -1 || recs[1].Posterior != nil {
			t.Errorf("%s: error record %+v", sampler, recs[1])
		}
		if (sampler == "cl") != (recs[0].ChainAgreement != nil) {
			t.Errorf("%s: chain agreement %v", sampler, recs[0].ChainAgreement)
		}
		wantNFE := map[string]int{"cp": 4, "cl": 256}[sampler]
		if recs[0].NFE != wantNFE || len(recs[0].Posterior) != 3 {
			t.Errorf("%s: NFE %d posterior %v", sampler, recs[0].NFE, recs[0].Posterior)
		}
	}
}

func TestClassifierUsesSoftmaxAndTopK(t *testing.T) {
	e, err := New(fake{modelmeta.Classifier}, Options{Sampler: "cp", TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := e.Classify(context.Background(), []Item{{Key: "b", Data: pngOf(t, 255)}})
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	want := math.Exp(4) / (math.Exp(4) + 1 + math.Exp(-4))
	if r.Sampler != "softmax" || r.Steps != 0 || r.NFE != 1 || math.Abs(r.MaxProb-want) > 1e-9 {
		t.Fatalf("record %+v", r)
	}
	if len(r.TopK) != 2 || r.TopK[0].Class != "bright" || r.TopK[1].Class != "mid" || r.Posterior != nil {
		t.Fatalf("top-k %+v", r.TopK)
	}
}

func TestUnknownSamplerIsRejected(t *testing.T) {
	if _, err := New(fake{modelmeta.Score}, Options{Sampler: "dense"}); err == nil {
		t.Fatal("accepted sampler dense")
	}
}

func TestStreamOverlapsAndStopsOnCancel(t *testing.T) {
	e, err := New(fake{modelmeta.Score}, Options{Sampler: "cp", Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	img := pngOf(t, 200)
	var keys []string
	_, err = e.Stream(context.Background(), 10, 3, func(_ context.Context, i int) Item {
		return Item{Key: string(rune('a' + i)), Data: img}
	}, func(r Record) error { keys = append(keys, r.Key); return nil })
	if err != nil || strings.Join(keys, "") != "abcdefghij" {
		t.Fatalf("keys %v err %v", keys, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err = e.Stream(ctx, 100, 2, func(_ context.Context, i int) Item { return Item{Key: "k", Data: img} },
		func(Record) error {
			if n++; n == 3 {
				cancel()
			}
			return nil
		})
	if !errors.Is(err, context.Canceled) || n > 4 {
		t.Fatalf("after cancel: %d records, err %v", n, err)
	}
}
