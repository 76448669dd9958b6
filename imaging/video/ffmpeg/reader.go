//go:build cgo && !novideo

package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/didicm/didicm/imaging/video"
)

// reader is the Go side of FFmpeg's custom I/O: reads and seeks on a
// video.Source, within an allowance of bytes that the caller sets before
// each step (opening, a seek, one packet), so that no claim of a file makes
// FFmpeg read more than the limits allow.
type reader struct {
	ctx  context.Context
	src  video.Source
	size int64
	pos  int64

	allowance int64  // bytes FFmpeg may still read in this step
	step      string // what the allowance is for, for the error
	over      error  // set when the allowance ran out
	err       error  // the Source's first failure
	beyondEnd bool   // the container pointed past the end of the file
}

// allow sets the allowance of the next step.
func (r *reader) allow(n int64, step string) {
	r.allowance, r.step = n, step
}

// read serves FFmpeg's read callback: the byte count, or an AVERROR.
func (r *reader) read(p []byte) int {
	if r.ctx.Err() != nil {
		return avExit
	}
	if r.allowance <= 0 {
		if r.over == nil {
			r.over = fmt.Errorf("%w: more than the allowed bytes read for %s", video.ErrTooLarge, r.step)
		}
		return avEIO
	}
	if r.pos >= r.size {
		return avEOF
	}
	p = p[:min(int64(len(p)), r.allowance, r.size-r.pos)]
	n, err := r.src.ReadAt(p, r.pos)
	r.pos += int64(n)
	r.allowance -= int64(n)
	switch {
	case n > 0:
		return n
	case err == nil || errors.Is(err, io.EOF):
		return avEOF
	}
	if r.err == nil {
		r.err = fmt.Errorf("%w at offset %d: %w", video.ErrRead, r.pos, err)
	}
	return avEIO
}

// AVIO's whence values beyond io.Seek*.
const (
	avseekSize  = 0x10000
	avseekForce = 0x20000
)

// seek serves FFmpeg's seek callback: the new position (the size for
// AVSEEK_SIZE), or an AVERROR.
func (r *reader) seek(off int64, whence int) int64 {
	var pos int64
	switch whence &^ avseekForce {
	case avseekSize:
		return r.size
	case io.SeekStart:
		pos = off
	case io.SeekCurrent:
		pos = r.pos + off
	case io.SeekEnd:
		pos = r.size + off
	default:
		return avEINVAL
	}
	if pos < 0 {
		return avEINVAL
	}
	if pos > r.size {
		r.beyondEnd = true
	}
	r.pos = pos
	return pos
}
