//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"time"
)

// seek positions the demuxer for decoding to give frames from target on:
// at the key frame before target, so that the frame before the first one in
// range is decoded too (the sampling rule needs it). A target at or before
// the start decodes from the stream's first frame.
func (r *run) seek(target time.Duration) error {
	in := r.in
	r.seeks++
	r.target, r.keySeen, r.tainted, r.outstanding = target, false, false, nil
	if r.skip != nil {
		r.skip.reset()
	}
	r.decoded, r.readAny, r.readEnd = false, false, 0
	r.leadOpen, r.leading = false, 0
	// A seek may read far (a Matroska file without cues is read cluster by
	// cluster to the target) but allocates nothing in proportion: the
	// context, not an allowance, bounds it.
	in.r.allow(in.r.size+1, "a seek")
	if target <= 0 {
		r.atStart, r.warm, r.next = true, false, 0
		if r.seeks == 1 {
			return nil // nothing read yet: the demuxer is at the start
		}
		if rc := C.vd_seek(in.c, C.int64_t(in.info.StartPTS), C.AVSEEK_FLAG_BACKWARD); rc < 0 {
			if rc := C.vd_seek(in.c, 0, C.AVSEEK_FLAG_BYTE); rc < 0 {
				return in.fail("seek to the start", rc)
			}
		}
		return nil
	}
	ts := in.info.StartPTS + toTicks(target, in.info.TimeBase) - 1
	if rc := C.vd_seek(in.c, C.int64_t(ts), C.AVSEEK_FLAG_BACKWARD); rc < 0 {
		if err := in.readErr(); err != nil {
			return err
		}
		return r.seek(0) // no index to seek with: decode from the start
	}
	r.atStart, r.warm = false, true
	return nil
}

// backOff seeks again further before From: the latest seek landed on a key
// frame at or after From, so the frame before From was not decoded.
func (r *run) backOff() error {
	if r.backoff == 0 {
		r.backoff = time.Second
	} else {
		r.backoff *= 2
	}
	return r.seek(r.opts.From - r.backoff)
}
