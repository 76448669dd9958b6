//go:build cgo && !novideo

package ffmpeg_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

// rssChildEnv names the file a child process of the test binary reads
// (see TestMain): peak memory is measured per process.
const rssChildEnv = "DIDICM_VIDEO_RSS_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(rssChildEnv); path != "" {
		os.Exit(rssChild(path))
	}
	os.Exit(m.Run())
}

// rssChild probes and samples path under the default limits and prints
// what happened as JSON: the error's reason, frames and error frames.
func rssChild(path string) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	defer f.Close()
	st, _ := f.Stat()
	src := ioSection(f, st.Size())
	var res struct {
		Reason, Err     string
		Frames, Damaged int
	}
	ctx := context.Background()
	_, err = ffmpeg.Decoder{}.Probe(ctx, src, video.Limits{})
	if err == nil {
		err = ffmpeg.Decoder{}.Sample(ctx, src, video.Options{Every: time.Second, Width: 28, Height: 32, Gray: true},
			func(fr video.Frame) error {
				res.Frames++
				if fr.Err != nil {
					res.Damaged++
				}
				return nil
			})
	}
	if err != nil {
		res.Reason, res.Err = video.Reason(err), err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// childResult is a child's account and its peak resident memory.
type childResult struct {
	Reason, Err     string
	Frames, Damaged int
	peakRSS         int64
}

func runChild(t *testing.T, data []byte) childResult {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crafted")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var r childResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	r.peakRSS = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
	return r
}

// rssMargin is how much more than reading a small valid file a crafted one
// may make a process hold at its peak: FFmpeg's largest single allocation
// (ffmpeg.MaxAlloc) and change. Unbounded, each file below would take GBs.
const rssMargin = ffmpeg.MaxAlloc + 64<<20

// TestCraftedHeadersCannotExhaustMemory reads files whose headers claim
// what would make a naive reader allocate GBs, each in a child process, and
// bounds the child's peak resident memory by that of reading a valid file
// plus rssMargin.
func TestCraftedHeadersCannotExhaustMemory(t *testing.T) {
	c := loadCorpus(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(c.path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base := runChild(t, read("h264.mp4"))
	if base.Reason != "" || base.Frames != c.Seconds {
		t.Fatalf("the valid file: %+v", base)
	}
	tests := []struct {
		name    string
		data    []byte
		reasons []string // the acceptable outcomes; "" is frames read
	}{
		{"a frame size over the limit", read("huge-8192.mp4"), []string{"too_many_pixels"}},
		{"a header that says 64x64 over 8192x8192 frames", lieAboutSize(t, read("huge-8192.mp4"), 64, 64),
			[]string{"too_many_pixels", "corrupt"}},
		{"frames that grow to 8192x8192 after a header of 112x128", read("resize.mkv"), []string{"", "too_many_pixels"}},
		{"a duration of 31 years", claimDuration(t, read("h264.mkv")), []string{"too_large"}},
		{"a moov box of 4 GB claiming 150 million samples", claimSamples(t, read("h264.mp4"), 150_000_000),
			[]string{"too_large", "corrupt", ""}},
		{"100000 tracks in an MP4", manyTraks(t, read("h264.mp4"), 100_000), []string{"too_large"}},
		{"4 million tracks in a Matroska file", manyTrackEntries(4_000_000), []string{"too_large", "corrupt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runChild(t, tt.data)
			t.Logf("%+v, peak RSS %d MiB (valid file %d MiB)", r, r.peakRSS>>20, base.peakRSS>>20)
			if r.peakRSS > base.peakRSS+rssMargin {
				t.Errorf("peak RSS %d MiB, more than %d MiB over reading a valid file", r.peakRSS>>20, rssMargin>>20)
			}
			ok := false
			for _, want := range tt.reasons {
				ok = ok || r.Reason == want
			}
			if !ok {
				t.Errorf("outcome %q, want one of %q", r.Reason, tt.reasons)
			}
		})
	}
}

// box finds the first box of type path[len(path)-1] under the box path in
// an ISO base media file and returns its start and end offsets.
func box(t *testing.T, b []byte, path ...string) (int, int) {
	t.Helper()
	start, end := 0, len(b)
	for depth, name := range path {
		found := false
		for pos := start; pos+8 <= end; {
			size := int(binary.BigEndian.Uint32(b[pos:]))
			if size < 8 || pos+size > end {
				t.Fatalf("box at %d: size %d", pos, size)
			}
			if string(b[pos+4:pos+8]) == name {
				start, end, found = pos, pos+size, true
				break
			}
			pos += size
		}
		if !found {
			t.Fatalf("no box %v", path[:depth+1])
		}
		if depth < len(path)-1 {
			start += 8
			if name == "stsd" {
				start += 8 // version, flags and entry count before the entries
			}
		}
	}
	return start, end
}

func put32(b []byte, off int, v uint32) { binary.BigEndian.PutUint32(b[off:], v) }

var videoTrak = []string{"moov", "trak"} // the corpus files' first track is the video

// lieAboutSize rewrites the frame size in the track and sample entry headers.
func lieAboutSize(t *testing.T, b []byte, w, h int) []byte {
	b = bytes.Clone(b)
	tkhd, _ := box(t, b, append(videoTrak, "tkhd")...)
	put32(b, tkhd+84, uint32(w)<<16)
	put32(b, tkhd+88, uint32(h)<<16)
	avc1, _ := box(t, b, append(videoTrak, "mdia", "minf", "stbl", "stsd", "avc1")...)
	binary.BigEndian.PutUint16(b[avc1+32:], uint16(w))
	binary.BigEndian.PutUint16(b[avc1+34:], uint16(h))
	return b
}

// claimDuration sets a Matroska file's duration (an 8-byte float of
// milliseconds in the Segment Info) to 10¹² ms, 31 years.
func claimDuration(t *testing.T, b []byte) []byte {
	b = bytes.Clone(b)
	i := bytes.Index(b, []byte{0x44, 0x89, 0x88})
	if i < 0 {
		t.Fatal("no 8-byte Duration element")
	}
	binary.BigEndian.PutUint64(b[i+3:], math.Float64bits(1e12))
	return b
}

// claimSamples makes the moov box claim 4 GB, and the video track n samples
// of a constant size, all in its first chunk: an index of n entries for a
// few bytes of header.
func claimSamples(t *testing.T, b []byte, n uint32) []byte {
	b = bytes.Clone(b)
	stbl := append(videoTrak, "mdia", "minf", "stbl")
	stsz, _ := box(t, b, append(stbl, "stsz")...)
	put32(b, stsz+12, 100) // every sample 100 bytes
	put32(b, stsz+16, n)
	stsc, _ := box(t, b, append(stbl, "stsc")...)
	put32(b, stsc+12, 1) // one run: chunk 1 on, n samples a chunk
	put32(b, stsc+16, 1)
	put32(b, stsc+20, n)
	moov, _ := box(t, b, "moov")
	put32(b, moov, 0xFFFFFFF0)
	return b
}

// manyTraks appends n empty trak boxes to the moov box (the last box of the
// corpus files).
func manyTraks(t *testing.T, b []byte, n int) []byte {
	moov, end := box(t, b, "moov")
	if end != len(b) {
		t.Fatal("moov is not the last box")
	}
	extra := bytes.Repeat([]byte("\x00\x00\x00\x08trak"), n)
	out := append(bytes.Clone(b), extra...)
	put32(out, moov, uint32(end-moov+len(extra)))
	return out
}

// manyTrackEntries is a Matroska file whose Tracks element holds n empty
// TrackEntry elements (2 bytes each).
func manyTrackEntries(n int) []byte {
	ebml := []byte{0x1A, 0x45, 0xDF, 0xA3, 0x8B, 0x42, 0x82, 0x88}
	ebml = append(ebml, "matroska"...)
	seg := []byte{0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF} // unknown size
	size := uint64(2 * n)
	tracks := []byte{0x16, 0x54, 0xAE, 0x6B, 0x01}
	tracks = binary.BigEndian.AppendUint64(tracks, size)[:5+7]
	tracks = append(tracks[:5], byte(size>>48), byte(size>>40), byte(size>>32), byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
	out := append(append(append(ebml, seg...), tracks...), bytes.Repeat([]byte{0xAE, 0x80}, n)...)
	return out
}
