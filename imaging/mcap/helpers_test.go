package mcap_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/didicm/didicm/imaging/mcap"
)

// corpusDir is build/mcap-corpus (make mcap-corpus), written by
// tools/mcap-writer with @mcap/core.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("DIDICM_MCAP_CORPUS")
	if dir == "" {
		dir = "../../build/mcap-corpus"
	}
	if _, err := os.Stat(filepath.Join(dir, "corpus.json")); err != nil {
		t.Fatalf("no MCAP corpus at %s (make mcap-corpus, or scripts/mcap-corpus.sh): %v", dir, err)
	}
	return dir
}

// sidecar is the writer's account of one file (tools/mcap-writer/write.mjs).
type sidecar struct {
	File        string           `json:"file"`
	Compression string           `json:"compression"`
	Chunked     bool             `json:"chunked"`
	Indexed     bool             `json:"indexed"`
	StartTime   uint64           `json:"start_time,string"`
	EndTime     uint64           `json:"end_time,string"`
	TruncatedAt int64            `json:"truncated_at"`
	Channels    []sidecarChannel `json:"channels"`
	Messages    []sidecarMessage `json:"messages"`
}

type sidecarChannel struct {
	Topic           string `json:"topic"`
	SchemaName      string `json:"schema_name"`
	SchemaEncoding  string `json:"schema_encoding"`
	MessageEncoding string `json:"message_encoding"`
	Image           bool   `json:"image"`
}

type sidecarMessage struct {
	Topic       string `json:"topic"`
	LogTime     uint64 `json:"log_time,string"`
	PublishTime uint64 `json:"publish_time,string"`
	Sequence    uint32 `json:"sequence"`
	FrameID     string `json:"frame_id"`
	Format      string `json:"format"`
	Label       int    `json:"label"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
}

func readSidecar(t testing.TB, dir, name string) sidecar {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return s
}

func corpusFiles(t testing.TB, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	return files
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustOpen(t testing.TB, data []byte, lim mcap.Limits) *mcap.Reader {
	t.Helper()
	r, err := mcap.Open(bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

// got is a delivered image with its payload's digest (Data is only valid
// during the callback).
type got struct {
	mcap.Image
	sha string
}

// collect runs Images and keeps what it delivers.
func collect(t testing.TB, r *mcap.Reader, sel mcap.Selection) ([]got, error) {
	t.Helper()
	var out []got
	err := r.Images(context.Background(), sel, func(im mcap.Image) error {
		sum := sha256.Sum256(im.Data)
		g := got{Image: im, sha: hex.EncodeToString(sum[:])}
		g.Data = nil
		out = append(out, g)
		return nil
	})
	return out, err
}

// images keeps the delivered images without errors, failing on any error.
func images(t testing.TB, gs []got) []got {
	t.Helper()
	for _, g := range gs {
		if g.Err != nil {
			t.Fatalf("unexpected problem delivered: topic %q at %d: %v", g.Topic, g.LogTime, g.Err)
		}
	}
	return gs
}

type key struct {
	topic string
	t     uint64
}
