//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"cmp"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/didicm/didicm/imaging/video"
)

// frame offers the decoded frame, after the error items before it.
func (r *run) frame() error {
	f := r.in.c.frame
	pts := int64(f.pts)
	if pts == avNoPTS {
		pts = int64(f.best_effort_timestamp)
	}
	if pts == avNoPTS {
		r.tainted = true // a frame that cannot be placed in time: not given
		return nil
	}
	if r.decoded && pts <= r.lastPTS {
		r.tainted = true // out of presentation order, after damage: already counted
		return nil
	}
	t := r.in.toT(pts)
	if t > r.in.lim.MaxDuration {
		return fmt.Errorf("%w: a frame at %v, after %v", video.ErrTooLarge, t, r.in.lim.MaxDuration)
	}
	if err := r.checkSize(int(f.width), int(f.height)); err != nil {
		return err
	}
	seeks := r.seeks
	if err := r.lost(pts); err != nil || r.seeks != seeks {
		return err
	}
	r.lastPTS, r.decoded = pts, true
	it := item{pts: pts, t: t, key: f.key_frame != 0, frame: true}
	switch {
	case f.flags&C.AV_FRAME_FLAG_CORRUPT != 0 || f.decode_error_flags != 0:
		it.err, r.tainted = corrupt("the decoder reported damage"), true
	case it.key:
		r.tainted = false
	case r.tainted:
		it.err = corrupt("follows a damaged frame before the next key frame")
	}
	it.frame = it.err == nil
	return r.offer(it)
}

// checkSize re-estimates the decoding memory when the frames' size differs
// from the one last checked (a header that lied, a size change).
func (r *run) checkSize(w, h int) error {
	if w == r.w0 && h == r.h0 {
		return nil
	}
	r.w0, r.h0 = w, h
	o := r.opts
	ow, oh, ch := o.Width, o.Height, 3
	if ow == 0 {
		ow, oh = w, h
	}
	if o.Gray {
		ch = 1
	}
	need := video.DecodedBytes(int64(C.vd_frame_bytes_of(r.in.c.frame)), w, ow, oh, ch, r.in.lim.Threads,
		C.vd_intra_only(r.in.c) != 0)
	if int64(w)*int64(h) > r.in.lim.MaxPixels {
		return fmt.Errorf("%w: a frame of %dx%d", video.ErrTooManyPixels, w, h)
	}
	if need > r.in.lim.MaxDecodedBytes {
		return fmt.Errorf("%w: frames of %dx%d need about %d bytes to decode, more than %d", video.ErrTooLarge, w, h, need, r.in.lim.MaxDecodedBytes)
	}
	return nil
}

// maxOutstanding bounds the packets waiting for their frames, should a
// decoder stop giving frames: more than any decoder's reordering delay plus
// the packets the skipper drops at once. Beyond it the oldest is forgotten.
const maxOutstanding = 4096

// pend is a packet whose frame has not come out: sent to the decoder, or
// skipped (its frame stands in the presentation order as a placeholder).
type pend struct {
	pts     int64
	skipped bool
}

func cmpPend(a pend, pts int64) int { return cmp.Compare(a.pts, pts) }

// track notes a packet whose frame should come out, or a skipped one.
func (r *run) track(pts int64, skipped bool) {
	if pts == avNoPTS {
		return
	}
	i, found := slices.BinarySearchFunc(r.outstanding, pts, cmpPend)
	if !found {
		r.outstanding = slices.Insert(r.outstanding, i, pend{pts, skipped})
	}
	if len(r.outstanding) > maxOutstanding {
		r.outstanding, r.tainted = r.outstanding[1:], true
	}
}

// lost offers an item for each packet whose frame can no longer come out:
// frames come out in presentation order, so those before the frame at pts
// (all of them at the end, pts avNoPTS). A sent packet's is an error item,
// a skipped one's a placeholder. It drops pts itself.
func (r *run) lost(pts int64) error {
	n := len(r.outstanding)
	if pts != avNoPTS {
		n, _ = slices.BinarySearchFunc(r.outstanding, pts, cmpPend)
	}
	gone := slices.Clone(r.outstanding[:n])
	r.outstanding = r.outstanding[n:]
	if len(r.outstanding) > 0 && r.outstanding[0].pts == pts {
		r.outstanding = r.outstanding[1:]
	}
	for seeks, i := r.seeks, 0; i < len(gone) && seeks == r.seeks; i++ {
		it := item{pts: gone[i].pts, t: r.in.toT(gone[i].pts), skipped: gone[i].skipped}
		if !it.skipped {
			r.tainted = true
			it.err = corrupt("a frame that did not decode")
		}
		if err := r.offer(it); err != nil {
			return err
		}
	}
	return nil
}

// offer passes one item through the seek's warm-up and the schedule.
func (r *run) offer(it item) error {
	if r.warm {
		if !it.good() {
			return nil // before the key frame decoding started from
		}
		if it.t >= r.opts.From {
			return r.backOff()
		}
		r.warm = false
		r.next = -1
		if it.pts == r.keyPTS && r.keyPos >= 0 {
			r.next = r.keyPos
		}
	}
	idx := r.next
	if r.next >= 0 {
		idx += r.leading
		r.next++
	}
	if r.keyIdx != nil {
		var ok bool
		if idx, ok = r.keyIdx[it.pts]; ok {
			delete(r.keyIdx, it.pts)
		} else {
			idx = -1
		}
	}
	if !r.sched.Take(it.t) {
		return nil
	}
	return r.give(it, idx)
}

// endSlack is how much earlier than its header states a file may end
// without being taken as truncated (audio may outlast video).
const endSlack = time.Second

// finish gives error frames for the sample times a truncated file no longer
// holds.
func (r *run) finish() error {
	gap := time.Duration(0)
	if r.in.info.FrameRate > 0 {
		gap = time.Duration(float64(time.Second) / r.in.info.FrameRate)
	}
	end := r.in.info.Duration
	short := r.readAny && end-(r.readEnd+gap) > endSlack || !r.readAny && r.opts.From < end
	if !r.badEnd && !short {
		return nil
	}
	for t := range r.sched.Missing(end, gap) {
		it := item{t: t, pts: r.in.info.StartPTS + toTicks(t, r.in.info.TimeBase),
			err: corrupt(fmt.Sprintf("the file ends before %v", t))}
		if err := r.give(it, -1); err != nil {
			return err
		}
	}
	return nil
}

// give scales the item's frame and calls fn.
func (r *run) give(it item, idx int64) error {
	if r.given >= r.in.lim.MaxFrames {
		return fmt.Errorf("%w: more than %d frames in one call", video.ErrTooLarge, r.in.lim.MaxFrames)
	}
	r.given++
	fr := video.Frame{Index: idx, PTS: it.pts, TimeBase: r.in.info.TimeBase, T: it.t, Key: it.key, Err: it.err}
	if it.skipped { // the skipper's rule failed: say so rather than give a wrong frame
		fr.Err = corrupt("a frame skipped as no sample time's was sampled")
	}
	if it.frame {
		if err := r.scale(&fr); err != nil {
			fr.Err = err
		}
	}
	return r.fn(fr)
}

// scale converts the decoded frame to the output size and format into pix.
func (r *run) scale(fr *video.Frame) error {
	f := r.in.c.frame
	w, h, ch := r.opts.Width, r.opts.Height, 3
	if w == 0 {
		w, h = int(f.width), int(f.height)
	}
	gray := C.int(0)
	if r.opts.Gray {
		ch, gray = 1, 1
	}
	stride := int(C.vd_scale(r.in.c, C.int(w), C.int(h), gray))
	if stride < 0 {
		return corrupt("scale: " + avError(C.int(stride)))
	}
	row := w * ch
	if cap(r.pix) < row*h {
		r.pix = make([]byte, row*h)
	}
	r.pix = r.pix[:row*h]
	src := unsafe.Slice((*byte)(unsafe.Pointer(r.in.c.out)), stride*h)
	for y := range h {
		copy(r.pix[y*row:(y+1)*row], src[y*stride:y*stride+row])
	}
	fr.Width, fr.Height, fr.Channels, fr.Pix = w, h, ch, r.pix
	return nil
}

func corrupt(msg string) error { return fmt.Errorf("%w: %s", video.ErrCorrupt, msg) }
