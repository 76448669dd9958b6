//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"slices"
	"time"
	"unsafe"
)

// skipper keeps packets from the decoder that no sample time can take and
// no frame that one can take refers to. With Every at least the key-frame
// interval, that is most of a video: from a one-second sample to the next,
// only the key frames before them need decoding.
//
// A packet is held back when no sample time lies between the latest frame
// time read before it (below its own) and its own time: whatever frame
// comes between them in presentation order, the packet's frame cannot be
// the first at or after a sample time. Held packets are sent, in order,
// as soon as a packet that must be decoded arrives (it may refer to them),
// and dropped when a closed key frame arrives (nothing after it refers to
// them). A dropped packet's frame still takes its place in presentation
// order as a placeholder, so the sampling rule and Index see every frame.
type skipper struct {
	every  time.Duration
	closed func([]byte, []byte) bool // says a key packet starts a closed GOP
	held   []*C.AVPacket
	bytes  int64
	recent []time.Duration // the times of the latest packets read, ascending
}

// Bounds of what is held back (beyond them it is decoded) and of the times
// remembered.
const (
	maxHeld   = 512
	maxRecent = 64
)

// route decodes the packet or holds it back.
func (r *run) route(pkt *C.AVPacket, pts int64, key bool) error {
	s := r.skip
	if s == nil || pts == avNoPTS {
		if err := r.sendHeld(); err != nil {
			return err
		}
		return r.send(pkt)
	}
	if key && s.closed(packetBytes(pkt), extradata(r.in)) {
		r.dropHeld()
	}
	t := r.in.toT(pts)
	needed := r.warm || s.needed(t)
	s.remember(t)
	if !needed && len(s.held) < maxHeld && s.bytes+int64(pkt.size) <= r.in.lim.MaxPacketBytes {
		if p := C.av_packet_clone(pkt); p != nil { // a new reference to the same data
			s.held = append(s.held, p)
			s.bytes += int64(pkt.size)
			return nil
		}
	}
	if err := r.sendHeld(); err != nil {
		return err
	}
	return r.send(pkt)
}

// needed says whether a sample time lies in (the latest time read below
// t, t], or no time below t was read since the latest seek.
func (s *skipper) needed(t time.Duration) bool {
	i, _ := slices.BinarySearch(s.recent, t)
	if i == 0 {
		return true
	}
	return floorDiv(t, s.every) != floorDiv(s.recent[i-1], s.every)
}

// remember adds t to the recent times, forgetting the smallest.
func (s *skipper) remember(t time.Duration) {
	i, found := slices.BinarySearch(s.recent, t)
	if !found {
		s.recent = slices.Insert(s.recent, i, t)
	}
	if len(s.recent) > maxRecent {
		s.recent = s.recent[1:]
	}
}

// sendHeld decodes the packets held back.
func (r *run) sendHeld() error {
	if r.skip == nil {
		return nil
	}
	held := r.skip.held
	r.skip.held, r.skip.bytes = nil, 0
	for i, p := range held {
		err := r.send(p)
		C.av_packet_free(&held[i])
		if err != nil {
			for j := i + 1; j < len(held); j++ {
				C.av_packet_free(&held[j])
			}
			return err
		}
	}
	return nil
}

// dropHeld drops the packets held back, their frames placeholders.
func (r *run) dropHeld() {
	if r.skip == nil {
		return
	}
	for i, p := range r.skip.held {
		r.track(int64(p.pts), true)
		C.av_packet_free(&r.skip.held[i])
	}
	r.skip.held, r.skip.bytes = nil, 0
}

// release frees what the run still holds in C memory.
func (r *run) release() {
	if r.skip != nil {
		r.skip.reset()
	}
}

// reset forgets the packets held and the times read, at a seek.
func (s *skipper) reset() {
	for i := range s.held {
		C.av_packet_free(&s.held[i])
	}
	s.held, s.bytes, s.recent = nil, 0, s.recent[:0]
}

// floorDiv is a/b rounded down (b > 0).
func floorDiv(a, b time.Duration) time.Duration {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func packetBytes(p *C.AVPacket) []byte {
	if p.size <= 0 || p.data == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p.data)), int(p.size))
}

func extradata(in *input) []byte {
	par := in.c.st.codecpar
	if par.extradata_size <= 0 || par.extradata == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(par.extradata)), int(par.extradata_size))
}
