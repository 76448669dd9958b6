package mcap

import (
	"fmt"
	"slices"
)

// iterator is one Images call's state: its own file window and chunk
// buffers, and per topic the last time step sampled.
type iterator struct {
	r       *Reader
	p       plan
	sel     Selection
	fn      func(Image) error
	w       *window
	cr      *chunkReader
	lo      uint64            // the first log time read (From, or its step's start)
	last    map[string]uint64 // per topic: 1 + the step of the last sample
	pending []pending
}

// pending is a selected message of the segment being read: where its
// content lies (in the chunk's records, or in the file) and its head.
type pending struct {
	off  int64
	n    uint64
	head messageHead
}

func (it *iterator) segment(s segment) error {
	if s.err != nil {
		return it.fn(Image{LogTime: s.start, Err: s.err})
	}
	if !s.chunk {
		return it.run(s)
	}
	chunkErr := func(err error) error {
		if !isContentErr(err) {
			return err
		}
		return it.fn(Image{LogTime: s.start, Err: &ChunkError{Offset: s.offset, Start: s.start, End: s.end, Err: err}})
	}
	_, records, err := it.cr.load(it.w, s.offset, s.length)
	if err != nil {
		return chunkErr(err)
	}
	it.pending = it.pending[:0]
	framing := eachRecord(records, func(op byte, content []byte, off int) {
		if m, ok := parseMessageHead(content); op == opMessage && ok {
			it.consider(m, int64(off), uint64(len(content)))
		}
	})
	if err := it.deliver(func(p pending) ([]byte, error) { return records[p.off : p.off+int64(p.n)], nil }); err != nil {
		return err
	}
	if framing != nil {
		return chunkErr(framing)
	}
	return nil
}

// run reads a run of message records outside chunks.
func (it *iterator) run(s segment) error {
	it.pending = it.pending[:0]
	for pos := s.offset; pos < s.offset+s.length; {
		op, n, err := it.w.recordAt(pos)
		if err != nil {
			return err // Open walked these records whole
		}
		content := pos + recordHeaderSize
		if op == opMessage && n >= messageHeadSize {
			b, err := it.w.at(content, messageHeadSize)
			if err != nil {
				return err
			}
			m, _ := parseMessageHead(b)
			it.consider(m, content, n)
		}
		pos = content + int64(n)
	}
	return it.deliver(func(p pending) ([]byte, error) { return it.w.at(p.off, int64(p.n)) })
}

// consider queues a message when its channel is selected and its log time
// is in the range read.
func (it *iterator) consider(m messageHead, off int64, n uint64) {
	if _, ok := it.p.decoders[m.channel]; !ok || m.logTime < it.lo || (it.sel.To != 0 && m.logTime >= it.sel.To) {
		return
	}
	it.pending = append(it.pending, pending{off: off, n: n, head: m})
}

// deliver sorts the queued messages by log time, samples them, and
// decodes and delivers those taken; content reads one message's record.
func (it *iterator) deliver(content func(pending) ([]byte, error)) error {
	slices.SortStableFunc(it.pending, func(a, b pending) int { return compareU64(a.head.logTime, b.head.logTime) })
	for _, p := range it.pending {
		topic := it.p.topics[p.head.channel]
		if !it.take(topic, p.head.logTime) {
			continue
		}
		im := Image{Topic: topic, LogTime: p.head.logTime, PublishTime: p.head.publishTime, Sequence: p.head.sequence}
		if err := overLimit("message", p.n, it.r.lim.MaxMessageBytes); err != nil {
			im.Err = err
		} else if b, err := content(p); err != nil {
			return err
		} else {
			it.decode(&im, p.head.channel, b[messageHeadSize:])
		}
		if err := it.fn(im); err != nil {
			return err
		}
	}
	return nil
}

// take applies the sampling rule to a message of topic at log time t and
// reports whether it is delivered.
func (it *iterator) take(topic string, t uint64) bool {
	if it.sel.Every > 0 {
		step := uint64(1)
		if t > it.r.start {
			step += (t - it.r.start) / uint64(it.sel.Every)
		}
		if it.last[topic] >= step {
			return false
		}
		it.last[topic] = step
	}
	return t >= it.sel.From
}

func (it *iterator) decode(im *Image, channel uint16, data []byte) {
	d, err := it.p.decoders[channel](data)
	if err != nil {
		im.Err = fmt.Errorf("topic %q at log time %d: %w", im.Topic, im.LogTime, err)
		return
	}
	im.Stamp, im.FrameID, im.Format = d.stamp, d.frameID, normalFormat(d.format)
	if err := overLimit("image", uint64(len(d.data)), it.r.lim.MaxImageBytes); err != nil {
		im.Err = err
		return
	}
	im.Data = d.data
}
