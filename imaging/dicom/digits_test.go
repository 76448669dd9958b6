package dicom_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/ort"
)

// shippedEngine classifies with the shipped DiDiRN at its recommended T,
// as `didicm classify` does by default.
func shippedEngine(t *testing.T) *classify.Engine {
	t.Helper()
	if _, _, err := ort.LoadLibrary("", nil); err != nil {
		if os.Getenv("DIDICM_SKIP_ORT") == "1" {
			t.Skipf("DIDICM_SKIP_ORT=1: %v", err)
		}
		t.Fatal(err)
	}
	m, err := ort.Open("../../models/didirn-mnist-7px-5pct.onnx", ort.Config{IntraOpThreads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e, err := classify.New(m, classify.Options{Steps: m.Metadata().RecommendedSteps})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestAGreyDICOMOfAPNGsPixelsClassifiesAsThePNG: the corpus's 120 MNIST
// test digits at 7×7 (digits/NNN.png, as the demo writes them) and the
// frames of 8-bit grey DICOM files holding exactly their pixels, in each
// lossless transfer syntax, get the same class and posterior from the
// shipped model, to the last bit: a model trained on PNGs reads a grey
// DICOM as a PNG (bits). Read min-max, as the shipped model declared until
// its metadata was re-exported, 119 of the 120 posteriors differed.
func TestAGreyDICOMOfAPNGsPixelsClassifiesAsThePNG(t *testing.T) {
	dir := corpusDir(t)
	engine := shippedEngine(t)
	pngs, _ := filepath.Glob(filepath.Join(dir, "digits", "*.png"))
	if len(pngs) != 120 {
		t.Fatalf("%d digit PNGs in %s, want 120 (rm -rf %s; make dicom-corpus)", len(pngs), dir, dir)
	}
	items := make([]classify.Item, len(pngs))
	for i, p := range pngs {
		items[i] = classify.Item{Key: p, Data: readFile(t, p)}
	}
	want, err := engine.Classify(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	syntaxes := 0
	for _, e := range readCorpus(t, dir) {
		if !strings.HasPrefix(filepath.Base(e.File), "digits-") {
			continue
		}
		got, err := engine.Classify(context.Background(), []classify.Item{{Key: e.File, Data: readFile(t, filepath.Join(dir, e.File))}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].ErrorReason == "unsupported_transfer_syntax" && !codecsRegistered {
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records for %d frames", e.File, len(got), len(want))
		}
		if n, first := differing(got, want); n > 0 {
			t.Errorf("%s (%s): %d of %d digits differ from their PNG; first: %s", filepath.Base(e.File), e.TransferSyntax, n, len(want), first)
		}
		syntaxes++
	}
	if syntaxes < 8 {
		t.Fatalf("only %d transfer syntaxes compared (rm -rf %s; make dicom-corpus)", syntaxes, dir)
	}
}

// differing counts the records whose class or posterior is not the
// PNG's, and describes them.
func differing(got, want []classify.Record) (int, string) {
	n, classes, first := 0, 0, ""
	for i := range got {
		if got[i].Error == "" && got[i].Class == want[i].Class && slices.Equal(got[i].Posterior, want[i].Posterior) {
			continue
		}
		if got[i].Class != want[i].Class {
			classes++
		}
		if n++; n == 1 {
			first = fmt.Sprintf("%s: class %q%s, posterior %.4f; PNG: %q, %.4f", got[i].Key, got[i].Class, got[i].Error,
				got[i].Posterior, want[i].Class, want[i].Posterior)
		}
	}
	return n, fmt.Sprintf("%d in class; first %s", classes, first)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
