//go:build cgo && !novideo

package ffmpeg

// #cgo LDFLAGS: -lavformat -lavcodec -lswscale -lavutil
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/cgo"
	"time"
	"unsafe"

	"github.com/didicm/didicm/imaging/video"
)

// AVERRORs as Go constants.
const (
	avEOF     = C.VD_EOF
	avEAGAIN  = C.VD_EAGAIN
	avExit    = C.VD_EXIT
	avEIO     = C.VD_EIO
	avEINVAL  = C.VD_EINVAL
	avENOMEM  = C.VD_ENOMEM
	avNoPTS   = C.AV_NOPTS_VALUE
	avioBytes = 256 << 10 // FFmpeg's I/O buffer: one read of the Source
)

// demuxers are FFmpeg's names of the demuxers each container is read with:
// FFmpeg does not guess the format.
var demuxers = map[string]string{
	video.ContainerMP4:      "mov",
	video.ContainerMatroska: "matroska",
	video.ContainerAVI:      "avi",
}

// codecs are the video codecs decoded: those of cameras and recorders.
// Others are refused (ErrFormat) to keep FFmpeg's rarely used decoders out
// of reach of untrusted files.
var codecs = map[string]bool{
	"h264": true, "hevc": true, "vp8": true, "vp9": true, "av1": true, "mjpeg": true,
	"mpeg4": true, "mpeg2video": true, "mpeg1video": true, "prores": true,
}

// input is an open file: FFmpeg's demuxer over the Source, its video
// stream, and once opened the decoder.
type input struct {
	c    *C.vd_ctx
	r    *reader
	h    cgo.Handle
	info video.Info
	lim  video.Limits
}

// open opens src, reads its header and checks it against lim (defaults
// applied).
func open(ctx context.Context, src video.Source, lim video.Limits) (*input, error) {
	head := make([]byte, video.SniffLen)
	n, err := src.ReadAt(head, 0)
	if n == 0 && err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", video.ErrRead, err)
	}
	container := video.Container(head[:n])
	if container == "" {
		return nil, fmt.Errorf("%w: its first bytes match no container this build reads", video.ErrFormat) // never the bytes themselves
	}
	in := &input{r: &reader{ctx: ctx, src: src, size: src.Size()}, lim: lim, c: C.vd_alloc()}
	if in.c == nil {
		return nil, fmt.Errorf("%w: out of memory", video.ErrTooLarge)
	}
	in.h = cgo.NewHandle(in.r)
	in.r.allow(lim.MaxHeaderBytes, "the container header")
	format := C.CString(demuxers[container])
	defer C.free(unsafe.Pointer(format))
	rc := C.vd_open(in.c, C.uintptr_t(in.h), format, avioBytes, C.int64_t(probeBytes(lim)),
		C.int64_t(analyzeMicros), C.int(lim.MaxStreams), C.int64_t(lim.MaxPixels))
	if rc < 0 {
		err := in.fail("open", rc)
		in.close()
		return nil, err
	}
	in.info = in.describe(container)
	if err := in.check(); err != nil {
		in.close()
		return nil, err
	}
	return in, nil
}

// How much FFmpeg reads for stream parameters beyond the header: at most
// 5 MB or 5 s of packets (FFmpeg's defaults), within MaxHeaderBytes.
const (
	probeBytesDefault = 5 << 20
	analyzeMicros     = 5_000_000
)

func probeBytes(lim video.Limits) int64 { return min(probeBytesDefault, lim.MaxHeaderBytes) }

// close frees everything FFmpeg holds for the file.
func (in *input) close() {
	C.vd_close(in.c)
	in.c = nil
	in.h.Delete()
}

// describe reads the video stream's header.
func (in *input) describe(container string) video.Info {
	st, par := in.c.st, in.c.st.codecpar
	tb := video.Rational{Num: int(st.time_base.num), Den: int(st.time_base.den)}
	info := video.Info{
		Container: container,
		Codec:     C.GoString(C.avcodec_get_name(par.codec_id)),
		Width:     int(par.width),
		Height:    int(par.height),
		Frames:    int64(st.nb_frames),
		TimeBase:  tb,
	}
	if st.start_time != avNoPTS {
		info.StartPTS = int64(st.start_time)
	}
	if r := st.avg_frame_rate; r.num > 0 && r.den > 0 {
		info.FrameRate = float64(r.num) / float64(r.den)
	}
	switch {
	case st.duration != avNoPTS && st.duration > 0 && tb.Num > 0 && tb.Den > 0:
		info.Duration = toDuration(int64(st.duration), tb)
	case in.c.fmt.duration != avNoPTS && in.c.fmt.duration > 0:
		info.Duration = time.Duration(in.c.fmt.duration) * time.Microsecond
	}
	return info
}

// check refuses a header that lim does not allow, before any decoding.
func (in *input) check() error {
	i := in.info
	switch {
	case !codecs[i.Codec]:
		return fmt.Errorf("%w: codec %s", video.ErrFormat, i.Codec)
	case i.Width <= 0 || i.Height <= 0:
		return fmt.Errorf("%w: no frame size in the header", video.ErrCorrupt)
	case int64(i.Width)*int64(i.Height) > in.lim.MaxPixels:
		return fmt.Errorf("%w: %dx%d, more than %d pixels", video.ErrTooManyPixels, i.Width, i.Height, in.lim.MaxPixels)
	case i.Duration > in.lim.MaxDuration:
		return fmt.Errorf("%w: the header states %v, more than %v", video.ErrTooLarge, i.Duration, in.lim.MaxDuration)
	case i.TimeBase.Num <= 0 || i.TimeBase.Den <= 0:
		return fmt.Errorf("%w: time base %d/%d", video.ErrCorrupt, i.TimeBase.Num, i.TimeBase.Den)
	}
	return nil
}

// fail turns an AVERROR of op into an error of package video, preferring
// what the reader saw (a Source failure, an exhausted allowance, a
// cancelled context) over FFmpeg's own account of it.
func (in *input) fail(op string, rc C.int) error {
	if err := in.readErr(); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s: %s", op, avError(rc))
	switch rc {
	case avENOMEM:
		if in.c != nil && in.c.fmt != nil && int(in.c.fmt.nb_streams) >= in.lim.MaxStreams {
			return fmt.Errorf("%w: %s (more than %d streams)", video.ErrTooLarge, msg, in.lim.MaxStreams)
		}
		return fmt.Errorf("%w: %s (an allocation above FFmpeg's cap, or memory exhausted)", video.ErrTooLarge, msg)
	case C.VD_NO_STREAM, C.VD_NO_DECODER, C.VD_NO_DEMUXER, C.VD_PATCHWELCOME:
		return fmt.Errorf("%w: %s", video.ErrFormat, msg)
	}
	return fmt.Errorf("%w: %s", video.ErrCorrupt, msg)
}

// readErr is what the reader saw go wrong, if anything: a Source failure,
// an exhausted allowance, a cancelled context.
func (in *input) readErr() error {
	switch {
	case in.r.err != nil:
		return in.r.err
	case in.r.over != nil:
		return in.r.over
	}
	return in.r.ctx.Err()
}

// toT is the time of pts from the stream's start.
func (in *input) toT(pts int64) time.Duration {
	return toDuration(pts-in.info.StartPTS, in.info.TimeBase)
}

// avError is FFmpeg's message for an AVERROR.
func avError(rc C.int) string {
	var buf [128]C.char
	C.vd_strerror(rc, &buf[0], C.int(len(buf)))
	return C.GoString(&buf[0])
}

// toDuration converts n ticks of tb to a duration, rounded to the nearest
// nanosecond.
func toDuration(n int64, tb video.Rational) time.Duration {
	return time.Duration(C.vd_rescale(C.int64_t(n), C.int(tb.Num), C.int(tb.Den), 1, C.int(time.Second)))
}

// toTicks converts d to ticks of tb, rounded to the nearest tick.
func toTicks(d time.Duration, tb video.Rational) int64 {
	return int64(C.vd_rescale(C.int64_t(d), 1, C.int(time.Second), C.int(tb.Num), C.int(tb.Den)))
}
