package imaging

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/mcap"
	"github.com/didicm/didicm/imaging/video"
)

// File is one file to expand into model inputs: its bytes, or for a video
// or log too large to read whole, random access to it; and the part of it
// to read.
type File struct {
	// Data holds the whole file; it is used when Src is nil.
	Data []byte
	// Src reads the file in pieces (a video or a log in object storage).
	Src video.Source
	// From and To bound a video's or log's part, [From, To) from its start;
	// To zero means to the end. A still image or a DICOM file is read whole.
	From, To time.Duration
}

// source is the file as random access.
func (f File) source() video.Source {
	if f.Src != nil {
		return f.Src
	}
	return bytes.NewReader(f.Data)
}

// head is the file's first bytes, for recognising its format.
func (f File) head() []byte {
	if f.Src == nil {
		return f.Data
	}
	b := make([]byte, min(f.Src.Size(), 4096))
	n, _ := f.Src.ReadAt(b, 0)
	return b[:n]
}

// Sampling chooses the images of videos and logs and bounds every file's.
type Sampling struct {
	// Every is the time between sampled frames of a video or messages of a
	// log topic (the rule of video.Options); zero takes every one.
	Every time.Duration
	// KeyframesOnly reads a video's key frames only.
	KeyframesOnly bool
	// Topics are a log's camera topics; empty means every compressed-image
	// topic.
	Topics []string
	// MaxFrames is the most images one file (or one part of a video or
	// log) gives: a DICOM file with more frames is one error record
	// (too_many_frames). Zero means DefaultMaxFrames.
	MaxFrames int
}

// ErrTooManyFrames: a file holds more images than Sampling.MaxFrames.
var ErrTooManyFrames = errors.New("too many frames")

// ErrRead: the file could not be read from its storage while it was being
// decoded (a video or log read in parts). Expand returns it instead of an
// error record: it says nothing about the file, and a retry may succeed.
var ErrRead = errors.New("read error")

// Sample is one model input of a file: the whole image, a frame of a
// DICOM file, or a sampled frame of a video or log.
type Sample struct {
	Input []float32
	// Frame is the 1-based frame of a multi-frame DICOM file, 0 otherwise.
	Frame int
	// DICOM holds the identifiers that join a DICOM result back to its
	// archive; nil for other formats.
	DICOM *DICOMIDs
	// Time is a video frame's or log message's time from the file's start
	// (Timed); Topic a log message's topic.
	Time  time.Duration
	Timed bool
	Topic string
	// Video and Log identify a frame in its file; nil for other formats.
	Video *VideoIDs
	Log   *LogIDs
	// Err is this image's failure (the file's other images may be fine).
	Err error
	// Part marks a failure of the whole file, or of the whole part of a
	// video or log that was asked for: no image of it could be read.
	Part bool
}

// DICOMIDs are a DICOM image's study, series and instance UIDs: nothing
// else from its header leaves this package.
type DICOMIDs struct {
	StudyUID, SeriesUID, SOPUID string
}

// VideoIDs place a video frame in its stream: its presentation time stamp
// (in the stream's time base) and its number in presentation order (-1
// when the container does not say).
type VideoIDs struct {
	PTS, Index int64
}

// LogIDs place a log message: its log time in nanoseconds, as the log
// records it.
type LogIDs struct {
	LogTime uint64
}

// DefaultMaxFrames is Sampling.MaxFrames when none is set.
const DefaultMaxFrames = 5000

func (s Sampling) maxFrames() int {
	if s.MaxFrames <= 0 {
		return DefaultMaxFrames
	}
	return s.MaxFrames
}

// Expand calls fn with each model input of a file, in order, one at a
// time: a still image gives one Sample; a DICOM file one per frame; a video
// or an MCAP log one per sampled frame or message of [From, To). Only the
// image being made is held, whatever the file holds, so a caller that
// scores inputs as they come bounds memory by its own chunk. A failure of
// the whole file is one Sample with Err (and no locator); a failure of one
// frame is that frame's Sample with Err. Expand returns only fn's error or
// ctx's.
func Expand(ctx context.Context, f File, in Input, lim Limits, s Sampling, fn func(Sample) error) error {
	head := f.head()
	var err error
	switch {
	case f.Src == nil && isDICOM(f.Data):
		err = expandDICOM(ctx, f.Data, in, lim, s, fn)
	case video.Sniff(head):
		err = expandVideo(ctx, f, in, lim, s, fn)
	case isMCAP(head):
		err = expandLog(ctx, f, in, lim, s, fn)
	case f.Src != nil:
		err = fail(ErrTooLarge, "too_large", "%d bytes, limit %d (only videos and logs are read in parts)", f.Src.Size(), lim.maxBytes())
	default:
		var x []float32
		if x, err = Preprocess(f.Data, in, lim); err == nil {
			return fn(Sample{Input: x})
		}
	}
	var ce callerError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return ce.err
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrRead):
		return err
	}
	return fn(Sample{Err: err, Part: true})
}

// callerError wraps what fn returned, so that Expand passes it on instead
// of turning it into an error record.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }
func (e callerError) Unwrap() error { return e.err }

// call runs fn and marks its error as the caller's.
func call(fn func(Sample) error, s Sample) error {
	if err := fn(s); err != nil {
		return callerError{err}
	}
	return nil
}

// expandDICOM gives each frame of a DICOM file, decoding one at a time.
func expandDICOM(ctx context.Context, b []byte, in Input, lim Limits, s Sampling, fn func(Sample) error) error {
	if int64(len(b)) > lim.maxBytes() {
		return fail(ErrTooLarge, "too_large", "%d bytes, limit %d", len(b), lim.maxBytes())
	}
	img, err := dicom.Parse(b, dicom.Limits{MaxPixelBytes: lim.maxDecodedBytes()})
	if err != nil {
		return dicomError(err)
	}
	if img.Frames > s.maxFrames() {
		return fail(ErrTooManyFrames, "too_many_frames", "%d frames, limit %d", img.Frames, s.maxFrames())
	}
	ids := &DICOMIDs{StudyUID: img.StudyUID, SeriesUID: img.SeriesUID, SOPUID: img.SOPUID}
	for i := range img.Frames {
		if err := ctx.Err(); err != nil {
			return err
		}
		smp := Sample{Frame: i + 1, DICOM: ids}
		if img.Frames == 1 {
			smp.Frame = 0
		}
		smp.Input, smp.Err = dicomFrame(img, i, in, lim)
		if err := call(fn, smp); err != nil {
			return err
		}
	}
	return nil
}

// videoDecoder reads videos; nil until the commands install one.
var videoDecoder video.Decoder

// SetVideoDecoder installs the video decoder, once at start-up (the
// commands install FFmpeg's where the build has it). Without one a video
// is an error record (unsupported_format).
func SetVideoDecoder(d video.Decoder) { videoDecoder = d }

// expandVideo gives the sampled frames of a video's part, each scaled to
// the model's size by the decoder.
func expandVideo(ctx context.Context, f File, in Input, lim Limits, s Sampling, fn func(Sample) error) error {
	if videoDecoder == nil {
		return videoError(video.ErrUnavailable)
	}
	src := f.source()
	vlim := video.Limits{MaxFrames: s.maxFrames(), MaxPixels: lim.maxPixels(), MaxDecodedBytes: lim.maxDecodedBytes()}
	info, err := videoDecoder.Probe(ctx, src, vlim)
	if err != nil {
		return videoError(err)
	}
	gray := in.Channels == 1
	need := video.DecodedBytes(int64(info.Width)*int64(info.Height)*3, info.Width, in.Width, in.Height, in.Channels, 1, false)
	release := lim.Budget.acquire(min(need, lim.maxDecodedBytes()))
	defer release()
	opts := video.Options{Every: s.Every, KeyframesOnly: s.KeyframesOnly, From: f.From, To: f.To,
		Width: in.Width, Height: in.Height, Gray: gray, Limits: vlim}
	err = videoDecoder.Sample(ctx, src, opts, func(fr video.Frame) error {
		smp := Sample{Time: fr.T, Timed: true, Video: &VideoIDs{PTS: fr.PTS, Index: fr.Index}}
		if fr.Err != nil {
			smp.Err = videoError(fr.Err)
		} else {
			smp.Input = pixTensor(fr.Pix, fr.Channels, in)
		}
		return call(fn, smp)
	})
	if err != nil && !errors.As(err, new(callerError)) && ctx.Err() == nil {
		return videoError(err)
	}
	return err
}

// videoError gives a video failure its record reason.
func videoError(err error) error {
	switch video.Reason(err) {
	case "unsupported_format":
		return fail(ErrFormat, "unsupported_format", "%v", err)
	case "too_large":
		return fail(ErrTooLarge, "too_large", "%v", err)
	case "too_many_pixels":
		return fail(ErrTooManyPix, "too_many_pixels", "%v", err)
	case "read":
		return fail(ErrRead, "read", "%v", err)
	}
	return fail(ErrCorrupt, "corrupt", "%v", err)
}

// pixTensor normalises a frame the decoder already scaled to the model's
// size (bytes, interleaved channels) into the model's C×H×W input.
func pixTensor(pix []byte, channels int, in Input) []float32 {
	n := in.Width * in.Height
	out := make([]float32, in.Channels*n)
	for c := range in.Channels {
		m, sd := in.Mean[c], in.Std[c]
		src := min(c, channels-1)
		for p := range n {
			out[c*n+p] = (float32(pix[p*channels+src])/255 - m) / sd
		}
	}
	return out
}

// mcapMagic opens every MCAP file.
const mcapMagic = "\x89MCAP0\r\n"

func isMCAP(head []byte) bool { return bytes.HasPrefix(head, []byte(mcapMagic)) }

// expandLog gives the sampled image messages of a log's part, each
// decoded as a still image (JPEG or PNG).
func expandLog(ctx context.Context, f File, in Input, lim Limits, s Sampling, fn func(Sample) error) error {
	src := f.source()
	r, err := mcap.Open(src, src.Size(), mcap.Limits{MaxImageBytes: lim.maxBytes()})
	if err != nil {
		return logError(err)
	}
	start := r.Start()
	sel := mcap.Selection{Topics: s.Topics, Every: s.Every, From: start + uint64(f.From)}
	if f.To > 0 {
		sel.To = start + uint64(f.To)
	}
	n := 0
	err = r.Images(ctx, sel, func(im mcap.Image) error {
		if n++; n > s.maxFrames() {
			return callerError{fail(ErrTooManyFrames, "too_many_frames", "more than %d images in this part of the log", s.maxFrames())}
		}
		smp := Sample{Topic: im.Topic, Time: time.Duration(im.LogTime - start), Timed: true, Log: &LogIDs{LogTime: im.LogTime}}
		if im.Err != nil {
			smp.Err = logError(im.Err)
		} else {
			smp.Input, smp.Err = Preprocess(im.Data, in, lim)
		}
		return call(fn, smp)
	})
	var ce callerError
	if errors.As(err, &ce) && errors.Is(ce.err, ErrTooManyFrames) {
		return ce.err // the part's own failure, an error record
	}
	if errors.Is(err, mcap.ErrTruncated) && f.To > 0 {
		return nil // the cut is the file's end: the part that runs to the end reports it
	}
	if err != nil && !errors.As(err, &ce) && ctx.Err() == nil {
		return logError(err)
	}
	return err
}

// logError gives a log failure its record reason.
func logError(err error) error {
	switch {
	case errors.Is(err, mcap.ErrNotMCAP), errors.Is(err, mcap.ErrUnsupportedSchema), errors.Is(err, mcap.ErrNoTopic):
		return fail(ErrFormat, "unsupported_format", "%v", err)
	case errors.Is(err, mcap.ErrLimit):
		return fail(ErrTooLarge, "too_large", "%v", err)
	}
	return fail(ErrCorrupt, "corrupt", "%v", err)
}

// Measure says how long a video or log is and how many images a second it
// holds (a video's frame rate; 0 for a log, whose rate depends on its
// topics), so that a manifest can cut it into parts. ok is false for any
// other file, and for videos when this build reads none.
func Measure(ctx context.Context, src video.Source) (d time.Duration, rate float64, ok bool, err error) {
	head := File{Src: src}.head()
	switch {
	case video.Sniff(head) && videoDecoder != nil:
		info, err := videoDecoder.Probe(ctx, src, video.Limits{})
		if err != nil {
			return 0, 0, true, videoError(err)
		}
		return info.Duration, info.FrameRate, true, nil
	case isMCAP(head):
		r, err := mcap.Open(src, src.Size(), mcap.Limits{})
		if err != nil {
			return 0, 0, true, logError(err)
		}
		return time.Duration(r.End() - r.Start()), 0, true, nil
	}
	return 0, 0, false, nil
}
