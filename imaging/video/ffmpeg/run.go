//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/didicm/didicm/imaging/video"
)

// maxDemuxErrors is how many packets in a row the demuxer may fail to read
// before the file is taken to end there.
const maxDemuxErrors = 64

// item is one frame in presentation order: decoded (its pixels in the
// decoder's frame) or an error standing for a frame that could not be.
type item struct {
	pts   int64
	t     time.Duration
	key   bool
	err   error
	frame bool
}

// good says whether the item is a decoded frame without damage.
func (it item) good() bool { return it.err == nil }

// run is one Sample call's pass over the file.
type run struct {
	in    *input
	opts  video.Options
	fn    func(video.Frame) error
	sched *video.Schedule
	pix   []byte

	seeks   int           // seeks so far
	target  time.Duration // the latest seek's target
	backoff time.Duration // how far the latest back-off went before target
	warm    bool          // after a seek: no good frame decoded yet
	atStart bool          // decoding began at the stream's first frame

	keyPTS, keyPos int64 // the first packet after the latest seek, its index place
	keySeen        bool
	leading        int64           // packets after that key frame shown before it
	lastKey        int64           // the latest key packet's PTS
	leadOpen       bool            // packets after lastKey may still be leading ones
	next           int64           // Index of the next frame, -1 when unknown
	keyIdx         map[int64]int64 // KeyframesOnly: key packet PTS → index place

	w0, h0      int           // the frame size memory was last checked for
	tainted     bool          // a damaged frame since the latest key frame
	outstanding []int64       // PTSs of packets sent whose frames have not come out, ascending
	lastPTS     int64         // the latest frame's PTS
	decoded     bool          // a frame came out since the latest seek
	readEnd     time.Duration // the latest packet time read since the latest seek
	readAny     bool          // a packet was read since the latest seek
	given       int
	badEnd      bool // the demuxer failed or the file ended before its header says
	demuxErrs   int
}

func newRun(in *input, o video.Options, fn func(video.Frame) error) *run {
	r := &run{in: in, opts: o, fn: fn, sched: video.NewSchedule(o.Every, o.From, o.To),
		w0: in.info.Width, h0: in.info.Height}
	if o.KeyframesOnly {
		r.keyIdx = map[int64]int64{}
	}
	return r
}

func (r *run) do(ctx context.Context) error {
	if err := r.seek(r.opts.From); err != nil {
		return err
	}
	for !r.sched.Done() {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := r.packet()
		if err != nil || more {
			if err != nil {
				return err
			}
			continue
		}
		seeks := r.seeks
		if err := r.flush(); err != nil {
			return err
		}
		if r.seeks == seeks {
			return r.finish()
		}
	}
	return nil
}

// packet reads one packet of the video stream and decodes it; false at the
// end of the file.
func (r *run) packet() (bool, error) {
	in := r.in
	in.r.allow(in.lim.MaxPacketBytes+2*avioBytes, "one packet")
	rc := C.vd_read(in.c)
	switch {
	case rc == avEOF:
		return false, nil
	case rc < 0:
		if err := in.readErr(); err != nil {
			return false, err
		}
		r.badEnd = true
		r.demuxErrs++
		return !in.r.beyondEnd && r.demuxErrs <= maxDemuxErrors, nil
	}
	r.demuxErrs = 0
	pkt := in.c.pkt
	if int64(pkt.size) > in.lim.MaxPacketBytes {
		return false, fmt.Errorf("%w: a packet of %d bytes, more than %d", video.ErrTooLarge, pkt.size, in.lim.MaxPacketBytes)
	}
	pts, key := int64(pkt.pts), pkt.flags&C.AV_PKT_FLAG_KEY != 0
	if !r.keySeen {
		r.keySeen, r.keyPTS, r.keyPos, r.leading = true, pts, int64(C.vd_index_position(in.c, pkt.dts)), 0
	}
	if pts != avNoPTS {
		r.readEnd, r.readAny = max(r.readEnd, in.toT(pts)), true
	}
	r.countLeading(pts, key)
	if !key && r.opts.KeyframesOnly {
		return true, nil
	}
	if r.keyIdx != nil {
		if len(r.keyIdx) > 1024 {
			clear(r.keyIdx)
		}
		r.keyIdx[pts] = int64(C.vd_index_position(in.c, pkt.dts))
	}
	if pkt.flags&C.AV_PKT_FLAG_CORRUPT != 0 {
		r.badEnd = true // a short read: the file may end here
	}
	r.track(int64(pkt.pts))
	if rc := C.vd_send(in.c, 0); rc < 0 && rc != avEAGAIN {
		if err := in.readErr(); err != nil {
			return false, err
		}
		r.tainted = true // the packet's frame will be missing from the output
	}
	return true, r.drain()
}

// countLeading counts the leading pictures of key frames: packets after a
// key frame in decoding order that are shown before it (the RASL pictures
// of an open-GOP HEVC stream). A decoder starting at that key frame drops
// them, so an index place counted from the key frame adds them.
func (r *run) countLeading(pts int64, key bool) {
	switch {
	case pts == avNoPTS:
	case key:
		r.lastKey, r.leadOpen = pts, true
	case r.leadOpen && pts > r.lastKey:
		r.leadOpen = false
	case r.leadOpen && pts < r.lastKey:
		if r.lastKey == r.keyPTS {
			r.leading++
		}
		if i, ok := r.keyIdx[r.lastKey]; ok && i >= 0 {
			r.keyIdx[r.lastKey] = i + 1
		}
	}
}

// flush drains the decoder at the end of the file.
func (r *run) flush() error {
	C.vd_send(r.in.c, 1)
	if err := r.drain(); err != nil {
		return err
	}
	return r.lost(avNoPTS)
}

// drain takes every frame the decoder has ready.
func (r *run) drain() error {
	for seeks := r.seeks; seeks == r.seeks; {
		rc := C.vd_receive(r.in.c)
		switch {
		case rc == avEAGAIN || rc == avEOF:
			return nil
		case rc < 0:
			if err := r.in.readErr(); err != nil {
				return err
			}
			r.tainted = true // a packet that did not decode: missing from the output
			return nil
		}
		if err := r.frame(); err != nil {
			return err
		}
	}
	return nil
}

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

// maxOutstanding bounds the packets waiting for their frames: more than any
// decoder's reordering delay.
const maxOutstanding = 64

// track notes a packet sent to the decoder, whose frame should come out.
func (r *run) track(pts int64) {
	if pts == avNoPTS {
		return
	}
	i, found := slices.BinarySearch(r.outstanding, pts)
	if !found {
		r.outstanding = slices.Insert(r.outstanding, i, pts)
	}
}

// lost offers an error item for each packet sent whose frame can no longer
// come out: frames come out in presentation order, so those before the
// frame at pts (all of them at the end, pts avNoPTS). It drops pts itself.
func (r *run) lost(pts int64) error {
	n := len(r.outstanding)
	if pts != avNoPTS {
		n, _ = slices.BinarySearch(r.outstanding, pts)
		n = max(n, len(r.outstanding)-maxOutstanding)
	}
	gone := slices.Clone(r.outstanding[:n])
	r.outstanding = r.outstanding[n:]
	if len(r.outstanding) > 0 && r.outstanding[0] == pts {
		r.outstanding = r.outstanding[1:]
	}
	for seeks, i := r.seeks, 0; i < len(gone) && seeks == r.seeks; i++ {
		r.tainted = true
		it := item{pts: gone[i], t: r.in.toT(gone[i]), err: corrupt("a frame that did not decode")}
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
