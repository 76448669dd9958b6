//go:build cgo && !novideo

package ffmpeg_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

// BenchmarkSample1080p measures one core sampling a 1080p H.264 clip
// (scripts/video-corpus.sh --bench: 60 s at 30 fps, 8 Mb/s, a key frame
// each second) to 224x224 RGB, every second and key frames only, against
// the ffmpeg CLI doing the same work in the same run. Both sides: one
// decoder thread, swscale's area filter, raw RGB out (the CLI writes it to
// a pipe the benchmark drains). Run pinned to one core:
//
//	DIDICM_BENCH_VIDEO=build/video-corpus/bench-1080p.mp4 taskset -c 0 \
//	  go test -run '^$' -bench Sample1080p -benchtime 1x -count 3 ./imaging/video/ffmpeg
func BenchmarkSample1080p(b *testing.B) {
	path := os.Getenv("DIDICM_BENCH_VIDEO")
	if path == "" {
		b.Skip("DIDICM_BENCH_VIDEO not set (scripts/video-corpus.sh --bench)")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	info, err := ffmpeg.Decoder{}.Probe(context.Background(), io.NewSectionReader(f, 0, st.Size()), video.Limits{})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	const scale = "scale=224:224:flags=area"
	cases := []struct {
		name string
		o    video.Options
		cli  []string // ffmpeg arguments around the input: before -i, then after it
		vf   string
	}{
		{"every1s/didicm", video.Options{Every: time.Second}, nil, ""},
		// select keeps the first frame at or after each whole second: the frames Every 1s takes.
		{"every1s/ffmpeg-select", video.Options{}, nil, selectEvery("1") + scale},
		{"every1s/ffmpeg-fps", video.Options{}, nil, "fps=1:round=up," + scale},
		// Sample times between key frames: 1.5 s, 4.5 s, … need the frames from the key frame before them.
		{"every1.5s/didicm", video.Options{Every: 1500 * time.Millisecond}, nil, ""},
		{"every1.5s/ffmpeg-select", video.Options{}, nil, selectEvery("1.5") + scale},
		{"keyframes/didicm", video.Options{KeyframesOnly: true}, nil, ""},
		// -skip_frame nokey: the decoder drops the other frames (all packets are still read and parsed).
		{"keyframes/ffmpeg-skip_frame", video.Options{}, []string{"-skip_frame", "nokey"}, scale},
		// -discard nokey as well: the demuxer drops the other packets, as didicm does.
		{"keyframes/ffmpeg-discard", video.Options{}, []string{"-discard", "nokey", "-skip_frame", "nokey"}, scale},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var frames int
			for b.Loop() {
				if c.vf == "" {
					frames = benchDidicm(b, path, c.o)
				} else {
					frames = benchCLI(b, path, c.cli, c.vf)
				}
			}
			b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(info.Duration.Seconds()*float64(b.N)/b.Elapsed().Seconds(), "video-s/s")
			b.ReportMetric(float64(frames), "frames")
		})
	}
}

// selectEvery is the select filter that keeps the first frame at or after
// each multiple of step seconds.
func selectEvery(step string) string {
	return "select='isnan(prev_selected_t)+gte(floor(t/" + step + ")\\,floor(prev_selected_t/" + step + ")+1)',"
}

func benchDidicm(b *testing.B, path string, o video.Options) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	o.Width, o.Height = 224, 224
	n := 0
	err = ffmpeg.Decoder{}.Sample(context.Background(), io.NewSectionReader(f, 0, st.Size()), o, func(fr video.Frame) error {
		if fr.Err != nil {
			b.Fatalf("frame at %v: %v", fr.T, fr.Err)
		}
		n++
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func benchCLI(b *testing.B, path string, before []string, vf string) int {
	args := append([]string{"-nostdin", "-v", "error", "-threads", "1"}, before...)
	args = append(args, "-i", path, "-an", "-filter_threads", "1", "-vf", vf, "-fps_mode", "passthrough",
		"-pix_fmt", "rgb24", "-f", "rawvideo", "-")
	cmd := exec.Command("ffmpeg", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, out)
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%v: %v", cmd.Args, err)
	}
	return int(n / (224 * 224 * 3))
}
