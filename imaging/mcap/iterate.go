package mcap

import (
	"context"
	"fmt"
	"slices"
)

// iterator is one Images call's state: its own file window and chunk
// buffers, and per topic the log time of the latest message seen.
type iterator struct {
	r       *Reader
	p       plan
	sel     Selection
	fn      func(Image) error
	w       *window
	cr      *chunkReader
	lo, hi  uint64            // the log times read, [lo, hi), hi 0 for no end
	owed    map[string]bool   // when set, only these topics are read
	prev    map[string]uint64 // per topic, the latest log time seen
	pending []pending
}

// pass reads the segments that overlap [lo, hi) and hold a channel read.
func (it *iterator) pass(ctx context.Context) error {
	for _, s := range it.r.segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if it.owed != nil && (len(it.owed) == 0 || s.err != nil || !it.owes(s)) {
			continue // the look-ahead past To: only chunks with an owed topic
		}
		if s.end < it.lo || (it.hi != 0 && s.start >= it.hi) || !it.p.wants(s) {
			continue
		}
		if err := it.segment(s); err != nil {
			return err
		}
	}
	return nil
}

// owedTopics returns the topics with a sample time before To not yet
// served: their next message, wherever it is, belongs to this range.
func (it *iterator) owedTopics() map[string]bool {
	owed := map[string]bool{}
	for _, topic := range it.p.topics {
		if g, ok := it.next(topic); ok && g < it.sel.To {
			owed[topic] = true
		}
	}
	return owed
}

// owes reports whether segment s may hold a message of an owed topic.
func (it *iterator) owes(s segment) bool {
	if s.channels == nil {
		return true
	}
	for _, c := range s.channels {
		if it.owed[it.p.topics[c]] {
			return true
		}
	}
	return false
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

// consider queues a message when its channel is read and its log time is
// in the range read.
func (it *iterator) consider(m messageHead, off int64, n uint64) {
	if _, ok := it.p.decoders[m.channel]; !ok || m.logTime < it.lo || (it.hi != 0 && m.logTime >= it.hi) {
		return
	}
	if it.owed != nil && !it.owed[it.p.topics[m.channel]] {
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

// take applies the sampling rule to the next message of topic, at log
// time t, and reports whether it is delivered.
func (it *iterator) take(topic string, t uint64) bool {
	if it.sel.Every <= 0 {
		return t >= it.sel.From && (it.sel.To == 0 || t < it.sel.To)
	}
	g, known := it.next(topic)
	if p, ok := it.prev[topic]; !ok || t > p {
		it.prev[topic] = t
	}
	if it.owed != nil {
		delete(it.owed, topic) // its first message past To settles it
	}
	return known && g <= t && g >= it.sel.From && (it.sel.To == 0 || g < it.sel.To)
}

// next returns the first sample time after the latest message of topic
// seen, and whether it is known: a topic with no message seen yet has the
// log's start as its next sample time when the read began there, and an
// earlier one (served by an earlier range) otherwise.
func (it *iterator) next(topic string) (uint64, bool) {
	p, ok := it.prev[topic]
	start, every := it.r.start, uint64(it.sel.Every)
	switch {
	case !ok:
		return start, it.lo <= start
	case p < start:
		return start, true
	}
	return start + ((p-start)/every+1)*every, true
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
