package mcap

import (
	"cmp"
	"errors"
	"io"
)

// runSpan is how many bytes of message records outside chunks one segment
// covers at most.
const runSpan = 1 << 20

// walk reads the data section record by record from the header on: schema
// and channel records into the catalog, each chunk (decompressed once to
// learn its channels and times) and each run of messages outside chunks as
// a segment. It stops at the Data End or Footer record; a record cut off by
// the end of the file, or an invalid opcode, ends the walk and is kept in
// r.tail for Images to return.
func (r *Reader) walk(w *window, cr *chunkReader) error {
	pos := int64(len(magic))
	var run *segment
	for {
		op, n, err := w.recordAt(pos)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			r.tail = &TruncatedError{Offset: pos}
			break
		}
		if err != nil {
			return err
		}
		if op == opDataEnd || op == opFooter {
			break
		}
		if op == 0 {
			r.tail = corrupt("invalid opcode 0 at offset %d", pos)
			break
		}
		content := pos + recordHeaderSize
		switch op {
		case opSchema, opChannel:
			err = r.walkCatalog(w, op, content, n)
		case opMessage:
			run, err = r.walkMessage(w, run, pos, n)
		case opChunk:
			run, err = nil, r.flushRun(run)
			if err == nil {
				err = r.walkChunkSegment(w, cr, pos, n)
			}
		}
		if err != nil {
			return err
		}
		pos = content + int64(n)
	}
	return r.flushRun(run)
}

func (r *Reader) walkCatalog(w *window, op byte, content int64, n uint64) error {
	b, err := w.at(content, int64(min(n, catalogHeadMax)))
	if err != nil {
		return err
	}
	return r.cat.add(op, b)
}

// walkMessage adds the message record at pos to the current run of
// messages outside chunks, starting a new run when it is full.
func (r *Reader) walkMessage(w *window, run *segment, pos int64, n uint64) (*segment, error) {
	if n < messageHeadSize {
		return run, nil // not a message: skipped
	}
	b, err := w.at(pos+recordHeaderSize, messageHeadSize)
	if err != nil {
		return run, err
	}
	m, _ := parseMessageHead(b)
	if run != nil && run.length >= runSpan {
		if err := r.flushRun(run); err != nil {
			return nil, err
		}
		run = nil
	}
	if run == nil {
		run = &segment{offset: pos, start: m.logTime, end: m.logTime, channels: []uint16{}}
	}
	run.length = pos + recordHeaderSize + int64(n) - run.offset
	run.start, run.end = min(run.start, m.logTime), max(run.end, m.logTime)
	run.channels = addChannel(run.channels, m.channel)
	return run, nil
}

func (r *Reader) walkChunkSegment(w *window, cr *chunkReader, pos int64, n uint64) error {
	seg, err := r.walkChunk(w, cr, pos, n)
	if err != nil {
		return err
	}
	return r.addSegment(seg)
}

func (r *Reader) flushRun(run *segment) error {
	if run == nil {
		return nil
	}
	return r.addSegment(*run)
}

// walkChunk decompresses the chunk record at pos to register its schemas
// and channels and find which channels have messages in it and when. A
// chunk that cannot be read becomes a segment carrying its error; the
// returned error is the catalog's (too many channels or schemas).
func (r *Reader) walkChunk(w *window, cr *chunkReader, pos int64, n uint64) (segment, error) {
	seg := segment{offset: pos, length: recordHeaderSize + int64(n), chunk: true}
	head, records, err := cr.load(w, pos, recordHeaderSize+int64(n))
	seg.start, seg.end = head.start, head.end
	if err != nil {
		seg.err = &ChunkError{Offset: pos, Start: head.start, End: head.end, Err: err}
		return seg, readErr(err)
	}
	var fatal error
	first, channels := true, []uint16{}
	err = eachRecord(records, func(op byte, content []byte, _ int) {
		if op == opSchema || op == opChannel {
			fatal = cmp.Or(fatal, r.cat.add(op, content))
		}
		m, ok := parseMessageHead(content)
		if op != opMessage || !ok {
			return
		}
		if first {
			seg.start, seg.end, first = m.logTime, m.logTime, false
		}
		seg.start, seg.end = min(seg.start, m.logTime), max(seg.end, m.logTime)
		channels = addChannel(channels, m.channel)
	})
	if err == nil {
		seg.channels = channels
	} // else channels stay unknown: Images reads the chunk up to the damage and reports it
	return seg, fatal
}
