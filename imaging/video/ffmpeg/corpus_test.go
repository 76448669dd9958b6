//go:build cgo && !novideo

package ffmpeg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

// corpus is build/video-corpus (scripts/video-corpus.sh): MNIST digits, one
// a second, encoded by Debian's ffmpeg CLI.
type corpus struct {
	dir       string
	Seconds   int   `json:"seconds"`
	FPS       int   `json:"fps"`
	Width     int   `json:"width"`
	Height    int   `json:"height"`
	DigitRows int   `json:"digit_rows"`
	Labels    []int `json:"labels"`
	Files     map[string]struct {
		Codec     string `json:"codec"`
		Container string `json:"container"`
		VFR       bool   `json:"vfr"`
		Damaged   string `json:"damaged"`
	} `json:"files"`
	digits []byte // Seconds × 28×28
}

func loadCorpus(t testing.TB) *corpus {
	t.Helper()
	dir := os.Getenv("DIDICM_VIDEO_CORPUS")
	if dir == "" {
		dir = "../../../build/video-corpus"
	}
	b, err := os.ReadFile(filepath.Join(dir, "corpus.json"))
	if err != nil {
		t.Fatalf("no video corpus at %s (scripts/video-corpus.sh): %v", dir, err)
	}
	c := &corpus{dir: dir}
	if err := json.Unmarshal(b, c); err != nil {
		t.Fatal(err)
	}
	if c.digits, err = os.ReadFile(filepath.Join(dir, "digits.gray")); err != nil {
		t.Fatal(err)
	}
	return c
}

// goodFiles are the corpus files without damage, each codec and container.
var goodFiles = []string{"h264.mp4", "h264.mkv", "hevc.mp4", "hevc.mkv", "vp9.webm", "mjpeg.avi", "vfr.mp4", "sparse.mp4"}

func (c *corpus) path(name string) string { return filepath.Join(c.dir, name) }

// open returns the file as a Source read through the OS, as from storage.
func (c *corpus) open(t testing.TB, name string) video.Source {
	t.Helper()
	f, err := os.Open(c.path(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return io.NewSectionReader(f, 0, st.Size())
}

// frame is a Frame copied out of its callback.
type frame struct {
	video.Frame
	pix []byte
}

func (f frame) String() string {
	return fmt.Sprintf("{index %d pts %d t %v key %v err %v}", f.Index, f.PTS, f.T, f.Key, f.Err)
}

// sample runs Sample and copies the frames.
func sample(t testing.TB, src video.Source, o video.Options) []frame {
	t.Helper()
	var out []frame
	err := ffmpeg.Decoder{}.Sample(context.Background(), src, o, func(f video.Frame) error {
		out = append(out, frame{Frame: f, pix: bytes.Clone(f.Pix)})
		return nil
	})
	if err != nil {
		t.Fatalf("Sample(%+v): %v", o, err)
	}
	return out
}

// The frames' model input in these tests: 28x32 grey, a quarter of the
// corpus size by area averaging, so the digit is its top 28 rows and the
// marker block one pixel of the bottom rows.
const inW, inH = 28, 32

func grey28(o video.Options) video.Options {
	o.Width, o.Height, o.Gray = inW, inH, true
	return o
}

// second is the corpus second whose digit pix (inW×inH grey) shows: the
// nearest of the digits by mean absolute difference.
func (c *corpus) second(pix []byte) (int, float64) {
	best, bestD := -1, 1e18
	for s := range c.Seconds {
		d := meanAbsDiff(pix[:28*28], c.digits[s*784:(s+1)*784])
		if d < bestD {
			best, bestD = s, d
		}
	}
	return best, bestD
}

// marker is the frame number within its second that pix's marker strip
// shows: the brightest column of the bottom rows.
func marker(pix []byte) int {
	row := pix[(inH-2)*inW : (inH-1)*inW]
	best := 0
	for x, v := range row {
		if v > row[best] {
			best = x
		}
	}
	return best
}

func meanAbsDiff(a, b []byte) float64 {
	var s int
	for i := range a {
		d := int(a[i]) - int(b[i])
		s += max(d, -d)
	}
	return float64(s) / float64(len(a))
}

// cliFrame is what `ffmpeg -ss T -i file -frames:v 1` gives at the tests'
// input size: an accurate seek (decoding from the key frame before T and
// dropping the frames before it), swscale's area filter to 28x32, full-range
// grey.
func cliFrame(t testing.TB, path string, at time.Duration) []byte {
	t.Helper()
	cmd := cliCommand(path, at, fmt.Sprintf("scale=%d:%d:flags=area:out_range=full", inW, inH), "gray")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.Bytes())
	}
	if len(out) != inW*inH {
		t.Fatalf("%v: %d bytes, want %d", cmd.Args, len(out), inW*inH)
	}
	return out
}

// cliCommand is `ffmpeg -ss T -i path -frames:v 1 -vf filter -pix_fmt pixfmt`
// writing the raw frame to stdout.
func cliCommand(path string, at time.Duration, filter, pixfmt string) *exec.Cmd {
	ss := strconv.FormatFloat(at.Seconds(), 'f', 6, 64)
	return exec.Command("ffmpeg", "-nostdin", "-v", "error", "-ss", ss, "-i", path, "-frames:v", "1",
		"-vf", filter, "-pix_fmt", pixfmt, "-f", "rawvideo", "-")
}

// probed is a frame as ffprobe decodes it: its PTS and key-frame flag.
type probed struct {
	pts int64
	key bool
}

// probeFrames lists the frames of path's video stream in presentation
// order as ffprobe decodes them (all of them, without skipping).
func probeFrames(t testing.TB, path string) []probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "frame=pts,key_frame", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var fs []probed
	for _, line := range bytes.Fields(out) {
		key, pts, ok := bytes.Cut(line, []byte(","))
		if !ok {
			t.Fatalf("ffprobe %s: line %q", path, line)
		}
		n, err := strconv.ParseInt(string(bytes.TrimRight(pts, ",")), 10, 64)
		if err != nil {
			t.Fatalf("ffprobe %s: line %q: %v", path, line, err)
		}
		fs = append(fs, probed{pts: n, key: string(key) == "1"})
	}
	return fs
}

// ticksToT is the tests' own conversion of a PTS to a time: exact rational
// arithmetic, rounded to the nearest nanosecond.
func ticksToT(pts int64, info video.Info) time.Duration {
	num := (pts - info.StartPTS) * int64(time.Second) * int64(info.TimeBase.Num)
	den := int64(info.TimeBase.Den)
	return time.Duration((num + den/2) / den)
}

// expectedTimes applies the sampling rule to the frame times ts
// (presentation order): for each sample time k·every before end, the first
// time ≥ it, each once.
func expectedTimes(ts []time.Duration, every, end time.Duration) []time.Duration {
	var out []time.Duration
	i := 0
	for s := time.Duration(0); s < end; s += every {
		for i < len(ts) && ts[i] < s {
			i++
		}
		if i == len(ts) {
			break
		}
		if len(out) == 0 || out[len(out)-1] != ts[i] {
			out = append(out, ts[i])
		}
	}
	return out
}

func probe(t testing.TB, src video.Source) video.Info {
	t.Helper()
	info, err := ffmpeg.Decoder{}.Probe(context.Background(), src, video.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func ioSection(f *os.File, size int64) *io.SectionReader { return io.NewSectionReader(f, 0, size) }
