package mcap_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/didicm/didicm/imaging/mcap"
)

// FuzzOpen opens and reads whatever bytes it is given under small limits:
// never a panic, and memory within a bound that does not depend on what
// the bytes claim. Seeds: the head and the tail of the package's example
// and of each corpus file (when build/mcap-corpus exists), and the crafted
// files. Seeds are kept to a few KiB: the fuzzer minimises each input that
// finds new code, and that takes long on large ones.
func FuzzOpen(f *testing.F) {
	const seedSize = 1 << 10
	headTail := func(data []byte) {
		f.Add(data[:min(len(data), seedSize)])
		f.Add(append(bytes.Clone(mcapMagic), data[max(0, len(data)-seedSize):]...))
	}
	headTail(readFile(f, "testdata/example.mcap"))
	dir := os.Getenv("DIDICM_MCAP_CORPUS")
	if dir == "" {
		dir = "../../build/mcap-corpus"
	}
	if files, err := filepath.Glob(filepath.Join(dir, "*.mcap")); err == nil {
		for _, p := range files {
			headTail(readFile(f, p))
		}
	}
	for _, c := range craftedCases() {
		if data := c.file(f); len(data) < 2*seedSize {
			f.Add(data)
		}
	}
	f.Add(indexedFile(nil))
	lim := mcap.Limits{MaxRecordBytes: 1 << 20, MaxChunkBytes: 1 << 20, MaxMessageBytes: 1 << 20,
		MaxImageBytes: 1 << 20, MaxChannels: 64, MaxSchemas: 64, MaxChunks: 1024}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := allocated(func() {
			r, err := mcap.Open(bytes.NewReader(data), int64(len(data)), lim)
			if err != nil {
				return
			}
			r.Channels()
			_ = r.Images(context.Background(), mcap.Selection{Every: 1000}, func(mcap.Image) error { return nil })
		})
		// Two chunks of 1 MiB, lz4's 4 MiB block buffer, the chunk index
		// and the decoders' tables.
		if bound := uint64(12<<20 + 4*len(data)); mem > bound {
			t.Fatalf("allocated %d bytes for %d bytes of input (bound %d)", mem, len(data), bound)
		}
	})
}
