//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	"time"

	"github.com/didicm/didicm/imaging/video"
)

// maxDemuxErrors is how many packets in a row the demuxer may fail to read
// before the file is taken to end there.
const maxDemuxErrors = 64

// item is one frame in presentation order: decoded (its pixels in the
// decoder's frame) or an error standing for a frame that could not be.
type item struct {
	pts     int64
	t       time.Duration
	key     bool
	err     error
	frame   bool
	skipped bool // a frame not decoded because no sample time can take it
}

// good says whether the item is a decoded frame without damage.
func (it item) good() bool { return it.err == nil && !it.skipped }

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
	outstanding []pend        // packets sent or skipped whose frames have not come out, by PTS
	lastPTS     int64         // the latest frame's PTS
	decoded     bool          // a frame came out since the latest seek
	readEnd     time.Duration // the latest packet time read since the latest seek
	readAny     bool          // a packet was read since the latest seek
	skip        *skipper      // with Every > 0, the packets no sample time needs; nil: none skipped
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
	if o.Every > 0 && !o.KeyframesOnly && closedKeys[in.info.Codec] != nil {
		r.skip = &skipper{every: o.Every, closed: closedKeys[in.info.Codec]}
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
		if err != nil {
			return err
		}
		if more {
			continue
		}
		seeks := r.seeks // the end of the file; draining may still back off and seek
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
	return true, r.route(pkt, pts, key)
}

// send decodes one packet and takes the frames that come out.
func (r *run) send(pkt *C.AVPacket) error {
	r.track(int64(pkt.pts), false)
	// A packet the decoder refuses is not an error here: its frame will be
	// missing from the output, and lost gives it as an error frame in place.
	if rc := C.vd_send_packet(r.in.c, pkt); rc < 0 && rc != avEAGAIN {
		if err := r.in.readErr(); err != nil {
			return err
		}
	}
	return r.drain()
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
	r.dropHeld() // no later packet needs them
	C.vd_send_packet(r.in.c, nil)
	if err := r.drain(); err != nil {
		return err
	}
	return r.lost(avNoPTS)
}

// maxDecodeErrors is how many errors in a row drain takes from the decoder
// before it waits for the next packet.
const maxDecodeErrors = 64

// drain takes every frame the decoder has ready.
func (r *run) drain() error {
	for seeks, errs := r.seeks, 0; seeks == r.seeks && errs < maxDecodeErrors; {
		rc := C.vd_receive(r.in.c)
		switch {
		case rc == avEAGAIN || rc == avEOF:
			return nil
		case rc < 0: // a packet that did not decode: see send
			if err := r.in.readErr(); err != nil {
				return err
			}
			errs++
			continue
		}
		errs = 0
		if err := r.frame(); err != nil {
			return err
		}
	}
	return nil
}
