//go:build cgo && !novideo

package ffmpeg_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

// TestFFmpegPrintsNothing reads a corrupted file, on which FFmpeg logs
// errors, in a child process and checks that nothing reached its stderr.
func TestFFmpegPrintsNothing(t *testing.T) {
	c := loadCorpus(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rssChildEnv+"="+c.path("corrupt.mp4"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte(`"Damaged":`)) || stderr.Len() > 0 {
		t.Fatalf("child wrote %q to stdout and %q to stderr", out, stderr.Bytes())
	}
}

func TestSetLoggerRoutesFFmpegsMessages(t *testing.T) {
	c := loadCorpus(t)
	var buf bytes.Buffer
	ffmpeg.SetLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	defer ffmpeg.SetLogger(nil)
	err := ffmpeg.Decoder{}.Sample(context.Background(), c.open(t, "corrupt.mp4"), grey28(video.Options{Every: time.Second}),
		func(video.Frame) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "level=ERROR msg=ffmpeg message=") || strings.Contains(buf.String(), "level=INFO") {
		t.Fatalf("log:\n%s", buf.String())
	}
}
