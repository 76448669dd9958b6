package mcap_test

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/imaging/mcap"
)

// Every file of the corpus, read whole: each message the writer wrote comes
// back exactly once, with its bytes, times, sequence, frame and format, in
// log-time order, and decodes as the image it claims to be.
func TestCorpusDeliversEveryMessageOnce(t *testing.T) {
	dir := corpusDir(t)
	for _, file := range corpusFiles(t, dir) {
		name := strings.TrimSuffix(file, ".mcap")
		t.Run(name+" delivers each written message once", func(t *testing.T) {
			want := readSidecar(t, dir, name)
			data := readFile(t, filepath.Join(dir, file))
			r := mustOpen(t, data, mcap.Limits{})
			if r.Indexed() != want.Indexed {
				t.Errorf("Indexed() = %v, the writer wrote indexed=%v", r.Indexed(), want.Indexed)
			}
			gs, err := collect(t, r, mcap.Selection{})
			if want.TruncatedAt > 0 {
				var te *mcap.TruncatedError
				if !errors.As(err, &te) || !errors.Is(err, mcap.ErrTruncated) || te.Offset > want.TruncatedAt {
					t.Fatalf("Images on a file cut at %d: err = %v, want a *TruncatedError before the cut", want.TruncatedAt, err)
				}
			} else if err != nil {
				t.Fatalf("Images: %v", err)
			}
			checkMessages(t, images(t, gs), want.Messages)
			checkPayloads(t, r)
		})
	}
}

func checkMessages(t *testing.T, gs []got, want []sidecarMessage) {
	t.Helper()
	byKey := map[key]sidecarMessage{}
	for _, m := range want {
		byKey[key{m.Topic, m.LogTime}] = m
	}
	seen := map[key]bool{}
	var last uint64
	for _, g := range gs {
		k := key{g.Topic, g.LogTime}
		m, ok := byKey[k]
		if !ok || seen[k] {
			t.Fatalf("delivered %s at %d: not written, or delivered twice (seen=%v)", g.Topic, g.LogTime, seen[k])
		}
		seen[k] = true
		if g.sha != m.SHA256 || g.PublishTime != m.PublishTime || g.Sequence != m.Sequence ||
			g.FrameID != m.FrameID || g.Format != m.Format || g.Stamp != m.PublishTime {
			t.Fatalf("%s at %d: got sha %s pub %d seq %d frame %q format %q stamp %d, want %+v",
				g.Topic, g.LogTime, g.sha[:12], g.PublishTime, g.Sequence, g.FrameID, g.Format, g.Stamp, m)
		}
		if g.LogTime < last {
			t.Fatalf("%s at %d delivered after log time %d", g.Topic, g.LogTime, last)
		}
		last = g.LogTime
	}
	if len(seen) != len(want) {
		t.Fatalf("delivered %d of the %d messages written", len(seen), len(want))
	}
}

// checkPayloads decodes the first payload of each topic with the standard
// library: the bytes are the PNG or JPEG of a 28x28 MNIST digit.
func checkPayloads(t *testing.T, r *mcap.Reader) {
	t.Helper()
	done := map[string]bool{}
	err := r.Images(t.Context(), mcap.Selection{}, func(im mcap.Image) error {
		if im.Err == nil && !done[im.Topic] { // problems are checked by the caller
			done[im.Topic] = true
			checkPayload(t, im)
		}
		return nil
	})
	if err != nil && !errors.Is(err, mcap.ErrTruncated) {
		t.Fatal(err)
	}
	if len(done) != 6 {
		t.Errorf("payloads checked on %d topics, want 6", len(done))
	}
}

func checkPayload(t *testing.T, im mcap.Image) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(im.Data))
	if err != nil || format != im.Format || cfg.Width != 28 || cfg.Height != 28 {
		t.Errorf("%s: payload decodes as %s %dx%d (%v), want a 28x28 %s", im.Topic, format, cfg.Width, cfg.Height, err, im.Format)
	}
}

// The channels and the time span a file reports are the ones written.
func TestCorpusChannelsAndTimes(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"zstd-indexed", "zstd-noindex", "unchunked"} {
		t.Run(name+" reports the written channels", func(t *testing.T) {
			want := readSidecar(t, dir, name)
			r := mustOpen(t, readFile(t, filepath.Join(dir, name+".mcap")), mcap.Limits{})
			chans := r.Channels()
			if len(chans) != len(want.Channels) {
				t.Fatalf("%d channels, want %d: %+v", len(chans), len(want.Channels), chans)
			}
			for i, w := range want.Channels {
				g := chans[i]
				if g.Topic != w.Topic || g.SchemaName != w.SchemaName || g.SchemaEncoding != w.SchemaEncoding ||
					g.MessageEncoding != w.MessageEncoding || g.CompressedImage != w.Image {
					t.Errorf("channel %d = %+v, want %+v", i, g, w)
				}
			}
			if r.Start() != want.StartTime || r.End() != want.EndTime {
				t.Errorf("Start, End = %d, %d, want %d, %d", r.Start(), r.End(), want.StartTime, want.EndTime)
			}
		})
	}
}

// A Reader serves concurrent Images calls, each with its own buffers.
func TestConcurrentImages(t *testing.T) {
	dir := corpusDir(t)
	side := readSidecar(t, dir, "lz4-indexed")
	r := mustOpen(t, readFile(t, filepath.Join(dir, "lz4-indexed.mcap")), mcap.Limits{})
	results := make(chan []got, 3)
	for range cap(results) {
		go func() {
			gs, err := collect(t, r, mcap.Selection{})
			if err != nil {
				t.Error(err)
			}
			results <- gs
		}()
	}
	for range cap(results) {
		checkMessages(t, images(t, <-results), side.Messages)
	}
}
