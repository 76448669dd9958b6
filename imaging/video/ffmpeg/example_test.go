//go:build cgo && !novideo

package ffmpeg_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

// Sample a video every 10 seconds over the range [10 s, 30 s), each frame
// scaled to a 28×32 grey model input by the decoder. The corpus file shows
// one MNIST digit a second (scripts/video-corpus.sh).
func Example() {
	f, err := os.Open("../../../build/video-corpus/h264.mp4")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}
	src := io.NewSectionReader(f, 0, st.Size()) // any io.ReaderAt with a size: read in pieces, never whole

	var dec video.Decoder = ffmpeg.Decoder{}
	info, err := dec.Probe(context.Background(), src, video.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s %dx%d, %v at %g fps\n", info.Container, info.Codec, info.Width, info.Height, info.Duration, info.FrameRate)

	opts := video.Options{Every: 10 * time.Second, From: 10 * time.Second, To: 30 * time.Second, Width: 28, Height: 32, Gray: true}
	err = dec.Sample(context.Background(), src, opts, func(fr video.Frame) error {
		if reason := video.Reason(fr.Err); reason != "" { // a damaged frame: an error record
			fmt.Printf("t=%.3f %s\n", fr.T.Seconds(), reason)
			return nil
		}
		fmt.Printf("t=%.3f frame %d, pts %d (time base %d/%d), %d bytes\n",
			fr.T.Seconds(), fr.Index, fr.PTS, fr.TimeBase.Num, fr.TimeBase.Den, len(fr.Pix))
		return nil
	})
	if err != nil {
		fmt.Println(video.Reason(err), err)
	}
	// Output:
	// mp4 h264 112x128, 30s at 25 fps
	// t=10.000 frame 250, pts 128000 (time base 1/12800), 896 bytes
	// t=20.000 frame 500, pts 256000 (time base 1/12800), 896 bytes
}
