package video

import (
	"context"
	"io"
	"time"
)

// Source is a video file: random access and a size, as *io.SectionReader
// and *bytes.Reader give. Decoders read it in small pieces at the offsets
// the container's index names, never whole.
type Source interface {
	io.ReaderAt
	Size() int64
}

// Decoder reads frames from video files. The cgo package ffmpeg
// implements it; the commands install one, and everything else depends on
// this interface only.
type Decoder interface {
	// Probe reads the container header of src and describes its video
	// stream, refusing what lim does not allow.
	Probe(ctx context.Context, src Source, lim Limits) (Info, error)
	// Sample calls fn with the frames opts selects, in presentation order.
	// An error from fn stops the call and is returned. Damaged frames come
	// as frames with Err set, not as an error of the call.
	Sample(ctx context.Context, src Source, opts Options, fn func(Frame) error) error
}

// Rational is a fraction, such as a stream's time base (seconds per tick).
type Rational struct{ Num, Den int }

// Info describes the video stream of a file as its header states it.
type Info struct {
	// Container is the container format: ContainerMP4, ContainerMatroska or
	// ContainerAVI.
	Container string
	// Codec is FFmpeg's name of the codec: h264, hevc, vp9, mjpeg, …
	Codec string
	// Width and Height are the frame size in pixels.
	Width, Height int
	// Duration is the stream's duration (the container's when the stream
	// states none); 0 when unknown.
	Duration time.Duration
	// FrameRate is the average frame rate in frames per second; 0 when
	// unknown.
	FrameRate float64
	// Frames is the frame count the container states; 0 when unknown (as in
	// Matroska files).
	Frames int64
	// TimeBase is the stream's time base: a PTS of n is n·Num/Den seconds.
	TimeBase Rational
	// StartPTS is the stream's start time in TimeBase units, the origin of
	// every Frame.T.
	StartPTS int64
}

// Frame is one sampled frame. Pix and the frame itself are valid only
// during the callback that receives them.
type Frame struct {
	// Index is the frame's number in presentation order (0 for the stream's
	// first frame), or -1 when not known: see Options.
	Index int64
	// PTS is the presentation time stamp in TimeBase units; for an error
	// frame that stands for a sample time with no frame read, the sample
	// time converted to TimeBase units.
	PTS int64
	// TimeBase is the stream's time base.
	TimeBase Rational
	// T is the time from the stream's start: (PTS − Info.StartPTS)·TimeBase,
	// rounded to the nearest nanosecond; for an error frame without a frame,
	// the sample time itself.
	T time.Duration
	// Key says whether the decoder marked the frame a key frame.
	Key bool
	// Width, Height and Channels describe Pix: Options.Width×Options.Height
	// pixels of 1 (grey) or 3 (RGB) bytes, rows top to bottom.
	Width, Height, Channels int
	// Pix holds the pixels, full range 0–255; nil for an error frame. The
	// decoder reuses it after the callback returns.
	Pix []byte
	// Err is set for a frame that could not be decoded (a corrupt stretch,
	// a truncated file); it wraps ErrCorrupt.
	Err error
}

// Options choose the frames of a Sample call and their size.
//
// Sampling rule. With Every > 0 the sample times are 0, Every, 2·Every, …
// measured from the stream's start (Frame.T); each sample time t in
// [From, To) takes the first frame, in presentation order, whose T ≥ t.
// Consecutive sample times that take the same frame give it once, so a frame
// is given when some sample time lies in (T of the frame before it, its own
// T], and it belongs to the range holding the first such sample time: the
// frames of ranges that tile a file are those of one call over the whole
// file, each once. With Every = 0 every frame whose T lies in [From, To) is
// given. KeyframesOnly applies the same rule to the key frames alone.
//
// Frame.Index is exact when the run decodes from the stream's start. After
// a seek (From > 0) it continues from the key frame's place in the
// container's sample index, which MP4/MOV and AVI files hold for every frame
// (exact for closed GOPs, which x264 writes by default; an open-GOP HEVC
// stream counts the frames dropped before its first key frame); Matroska
// and WebM files index key frames only, so their ranges have Index -1. With
// KeyframesOnly, Index is the key frame's place in the container's sample
// index, -1 without one.
type Options struct {
	// Every is the step between sample times; 0 gives every frame.
	Every time.Duration
	// KeyframesOnly decodes key frames only (the others are never read by
	// the decoder): the fastest way to skim hours of footage.
	KeyframesOnly bool
	// From and To bound the sample times (or with Every 0 the frame times):
	// [From, To), To 0 meaning the end of the stream. The decoder seeks to a
	// key frame before From and decodes forward.
	From, To time.Duration
	// Width and Height are the size frames are scaled to by the decoder
	// (swscale: area averaging when neither side grows, bilinear otherwise);
	// 0 keeps the stream's size.
	Width, Height int
	// Gray gives one channel (luma, full range) instead of RGB.
	Gray bool
	// Limits bound what the call reads and allocates.
	Limits Limits
}
