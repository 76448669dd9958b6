package mcap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/didicm/didicm/imaging/mcap"
)

// A log cut anywhere opens, delivers a prefix of the whole log's messages
// (the complete chunks before the cut) and says it was truncated.
func TestCutAnywhere(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"zstd-indexed", "lz4-noindex", "unchunked"} {
		t.Run(name+" cut at many offsets yields a prefix and ErrTruncated", func(t *testing.T) {
			data := readFile(t, filepath.Join(dir, name+".mcap"))
			whole, err := collect(t, mustOpen(t, data, mcap.Limits{}), mcap.Selection{})
			if err != nil {
				t.Fatal(err)
			}
			all := keys(images(t, whole))
			dataEnd := dataEndOffset(t, data)
			prefixes := 0
			for cut := 8; cut < len(data); cut += 1009 {
				gs, err := collect(t, mustOpen(t, data[:cut], mcap.Limits{}), mcap.Selection{})
				got := keys(images(t, gs))
				if !slices.Equal(got, all[:len(got)]) {
					t.Fatalf("cut at %d: %d messages, not a prefix of the whole log's", cut, len(got))
				}
				if cut <= dataEnd && !errors.Is(err, mcap.ErrTruncated) {
					t.Fatalf("cut at %d (data ends at %d): err = %v, want ErrTruncated", cut, dataEnd, err)
				}
				if cut > dataEnd && (err != nil || len(got) != len(all)) {
					t.Fatalf("cut at %d in the summary: %d of %d messages, err %v", cut, len(got), len(all), err)
				}
				if len(got) > 0 && len(got) < len(all) {
					prefixes++
				}
			}
			if prefixes < 10 {
				t.Errorf("only %d cuts gave a partial log", prefixes)
			}
		})
	}
}

// dataEndOffset finds the Data End record: the footer's summary start, or
// for a file without a summary the record just before the footer.
func dataEndOffset(t *testing.T, data []byte) int {
	t.Helper()
	footer := len(data) - 8 - 29
	if s := binary.LittleEndian.Uint64(data[footer+9:]); s != 0 {
		return int(s) - 13
	}
	return footer - 13
}

// A chunk whose bytes were damaged is reported once as a *ChunkError
// (ErrCorrupt: its CRC) and every other chunk is still delivered.
func TestDamagedChunkIsSkipped(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"none-indexed", "lz4-noindex", "zstd-indexed"} {
		t.Run(name+" with a damaged chunk delivers the others", func(t *testing.T) {
			side := readSidecar(t, dir, name)
			data := bytes.Clone(readFile(t, filepath.Join(dir, name+".mcap")))
			damageChunk(t, data, name == "none-indexed")
			gs, err := collect(t, mustOpen(t, data, mcap.Limits{}), mcap.Selection{})
			if err != nil {
				t.Fatal(err)
			}
			var ok []got
			var chunkErrs []error
			for _, g := range gs {
				if g.Err != nil {
					chunkErrs = append(chunkErrs, g.Err)
					continue
				}
				ok = append(ok, g)
			}
			var ce *mcap.ChunkError
			if len(chunkErrs) != 1 || !errors.As(chunkErrs[0], &ce) || !errors.Is(ce, mcap.ErrCorrupt) {
				t.Fatalf("problems %v, want one *ChunkError wrapping ErrCorrupt", chunkErrs)
			}
			lost := len(side.Messages) - len(ok)
			if lost < 1 || lost > 20 {
				t.Fatalf("%d of %d messages lost with one chunk", lost, len(side.Messages))
			}
			checkDelivered(t, ok, side)
		})
	}
}

// damageChunk flips a byte in the middle of a chunk's records: inside a
// PNG payload for an uncompressed file, else in the compressed stream of
// the chunk that starts after the middle of the file.
func damageChunk(t *testing.T, data []byte, payload bool) {
	t.Helper()
	mid := len(data) / 2
	if payload {
		i := bytes.Index(data[mid:], []byte("\x89PNG"))
		if i < 0 {
			t.Fatal("no PNG after the middle")
		}
		data[mid+i+20] ^= 0xff
		return
	}
	for i := mid; i < len(data)-40; i++ {
		if data[i] == 0x06 && binary.LittleEndian.Uint64(data[i+1:]) < 1<<16 && binary.LittleEndian.Uint64(data[i+9:])>>60 == 1700000000000000000>>60 &&
			(data[i+37] == 3 || data[i+37] == 4) && bytes.Equal(data[i+38:i+41], []byte{0, 0, 0}) {
			data[i+1+8+40+100] ^= 0xff // well inside the compressed records
			return
		}
	}
	t.Fatal("no chunk after the middle")
}

// checkDelivered checks delivered messages against the sidecar, allowing
// some to be missing.
func checkDelivered(t *testing.T, gs []got, side sidecar) {
	t.Helper()
	want := map[key]string{}
	for _, m := range side.Messages {
		want[key{m.Topic, m.LogTime}] = m.SHA256
	}
	seen := map[key]bool{}
	for _, g := range gs {
		k := key{g.Topic, g.LogTime}
		if want[k] != g.sha || seen[k] {
			t.Fatalf("%s at %d: wrong bytes, not written, or delivered twice", g.Topic, g.LogTime)
		}
		seen[k] = true
	}
}

// A summary whose CRC does not match is not trusted: the file is walked
// and every message is still delivered.
func TestDamagedSummaryFallsBackToTheWalk(t *testing.T) {
	dir := corpusDir(t)
	side := readSidecar(t, dir, "zstd-indexed")
	data := bytes.Clone(readFile(t, filepath.Join(dir, "zstd-indexed.mcap")))
	summary := binary.LittleEndian.Uint64(data[len(data)-8-29+9:])
	// The first summary record is a schema: damage its name.
	data[summary+1+8+2+4+2] ^= 0x20
	r := mustOpen(t, data, mcap.Limits{})
	if r.Indexed() {
		t.Fatal("a summary with a bad CRC was used")
	}
	gs, err := collect(t, r, mcap.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, images(t, gs), side.Messages)
}
