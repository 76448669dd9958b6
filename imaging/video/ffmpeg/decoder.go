//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/didicm/didicm/imaging/video"
)

// Available says whether this build decodes video: built with cgo and
// without -tags novideo.
const Available = true

// MaxAlloc is the largest single allocation FFmpeg may make in this process
// (libavutil's av_max_alloc, set when the package loads). It bounds the
// arrays FFmpeg sizes from counts a header states (an MP4 sample table, a
// Matroska track list) and still holds one plane of an 8K frame at 16 bits,
// or the index of 5 million MP4 samples (23 hours at 60 fps).
const MaxAlloc = 128 << 20

// Decoder reads video through FFmpeg's libavformat, libavcodec and
// libswscale. The zero value is ready to use, and safe for concurrent calls.
type Decoder struct{}

var _ video.Decoder = Decoder{}

// Probe reads src's container header (within lim.MaxHeaderBytes) and
// describes its video stream, refusing what lim does not allow.
func (Decoder) Probe(ctx context.Context, src video.Source, lim video.Limits) (video.Info, error) {
	in, err := open(ctx, src, lim.WithDefaults())
	if err != nil {
		return video.Info{}, err
	}
	defer in.close()
	return in.info, nil
}

// Sample decodes the frames opts selects and calls fn with each, in
// presentation order (see video.Options for the rule).
func (Decoder) Sample(ctx context.Context, src video.Source, opts video.Options, fn func(video.Frame) error) error {
	if err := checkOptions(opts); err != nil {
		return err
	}
	opts.Limits = opts.Limits.WithDefaults()
	in, err := open(ctx, src, opts.Limits)
	if err != nil {
		return err
	}
	defer in.close()
	if err := in.checkSampleCount(opts); err != nil {
		return err
	}
	if err := in.openDecoder(opts); err != nil {
		return err
	}
	r := newRun(in, opts, fn)
	defer r.release()
	return r.do(ctx)
}

func checkOptions(o video.Options) error {
	switch {
	case o.Every < 0 || o.From < 0 || o.To < 0:
		return errors.New("video options: negative Every, From or To")
	case o.To > 0 && o.To <= o.From:
		return fmt.Errorf("video options: To %v not after From %v", o.To, o.From)
	case o.Width < 0 || o.Height < 0 || (o.Width == 0) != (o.Height == 0):
		return fmt.Errorf("video options: size %dx%d (both or neither must be set)", o.Width, o.Height)
	}
	return nil
}

// checkSampleCount refuses a call whose sample times alone exceed
// MaxFrames.
func (in *input) checkSampleCount(o video.Options) error {
	end := in.info.Duration
	if o.To > 0 && (end == 0 || o.To < end) {
		end = o.To
	}
	if o.Every <= 0 || end <= o.From {
		return nil
	}
	if n := (end-o.From)/o.Every + 1; n > time.Duration(in.lim.MaxFrames) {
		return fmt.Errorf("%w: %d sample times, more than %d frames a call", video.ErrTooLarge, n, in.lim.MaxFrames)
	}
	return nil
}

// openDecoder estimates the decoding memory from the header, refuses it
// above MaxDecodedBytes, and opens the decoder.
func (in *input) openDecoder(o video.Options) error {
	w, h := o.Width, o.Height
	if w == 0 {
		w, h = in.info.Width, in.info.Height
	}
	ch := 3
	if o.Gray {
		ch = 1
	}
	need := video.DecodedBytes(int64(C.vd_frame_bytes(in.c)), in.info.Width, w, h, ch, in.lim.Threads, C.vd_intra_only(in.c) != 0)
	if need > in.lim.MaxDecodedBytes {
		return fmt.Errorf("%w: decoding %dx%d %s needs about %d bytes, more than %d", video.ErrTooLarge,
			in.info.Width, in.info.Height, in.info.Codec, need, in.lim.MaxDecodedBytes)
	}
	keyOnly := 0
	if o.KeyframesOnly {
		keyOnly = 1
	}
	if rc := C.vd_open_decoder(in.c, C.int(in.lim.Threads), C.int64_t(in.lim.MaxPixels), C.int(keyOnly)); rc < 0 {
		return in.fail("open decoder", rc)
	}
	return nil
}
