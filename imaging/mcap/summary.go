package mcap

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"slices"
)

// footer is the footer record's content.
type footer struct {
	pos                 int64 // the footer record's offset
	summary, offsetsPos uint64
	crc                 uint32
}

// readFooter reads the footer before the trailing magic; ok is false when
// the file does not end with one (a truncated log).
func readFooter(w *window) (footer, bool, error) {
	pos := w.size - int64(len(magic)) - footerSize
	if pos < int64(len(magic)) {
		return footer{}, false, nil
	}
	b, err := w.at(pos, footerSize+int64(len(magic)))
	if err != nil {
		return footer{}, false, err
	}
	l := lex{b: b}
	op, n := l.u8(), l.u64()
	f := footer{pos: pos, summary: l.u64(), offsetsPos: l.u64(), crc: l.u32()}
	ok := op == opFooter && n == footerSize-recordHeaderSize && bytes.Equal(l.take(uint64(len(magic))), magic)
	return f, ok, nil
}

// readSummary loads the schemas, channels, chunk indexes and statistics of
// the summary section. It returns false, and no error, when the file has no
// usable summary (none, a CRC mismatch, records that do not parse, chunk
// indexes that do not describe the data section): Open then walks the data
// section instead. Errors are I/O errors and limits.
func (r *Reader) readSummary(w *window) (bool, error) {
	f, ok, err := readFooter(w)
	if err != nil || !ok || f.summary == 0 {
		return false, err
	}
	end := f.pos
	if f.offsetsPos != 0 {
		end = int64(min(f.offsetsPos, uint64(f.pos)))
	}
	if f.summary < uint64(len(magic)) || f.summary >= uint64(end) {
		return false, nil
	}
	s := summaryScan{r: r, w: w, dataEnd: int64(f.summary)}
	s.hashing = f.crc != 0
	ok, err = s.records(int64(f.summary), end)
	if err != nil || !ok {
		return false, err
	}
	if err := s.hash(end, f.pos+footerSize-4); err != nil || (s.hashing && s.crc != f.crc) {
		return false, ioOnly(err)
	}
	return s.finish(), nil
}

// summaryScan walks the summary section's records.
type summaryScan struct {
	r       *Reader
	w       *window
	dataEnd int64  // the summary's start: chunks lie before it
	hashing bool   // the footer has a summary CRC
	crc     uint32 // of the bytes read so far
	chunks  []chunkIndexRecord
	stats   *statisticsRecord
}

func (s *summaryScan) records(pos, end int64) (bool, error) {
	for pos < end {
		op, n, err := s.w.recordAt(pos)
		if err != nil || n > uint64(end-pos-recordHeaderSize) {
			return false, ioOnly(err)
		}
		if err := s.hash(pos, pos+recordHeaderSize); err != nil {
			return false, ioOnly(err)
		}
		ok, err := s.record(op, pos+recordHeaderSize, int64(n))
		if err != nil || !ok {
			return false, err
		}
		pos += recordHeaderSize + int64(n)
	}
	return true, nil
}

// record handles one summary record whose content is n bytes at pos.
func (s *summaryScan) record(op byte, pos, n int64) (bool, error) {
	switch op {
	case opSchema, opChannel, opChunkIndex, opStatistics:
	default:
		return true, ioOnly(s.hash(pos, pos+n))
	}
	if uint64(n) > uint64(s.r.lim.MaxRecordBytes) {
		return false, nil // not a summary this reader can hold: walk the data instead
	}
	b, err := s.w.at(pos, n)
	if err != nil {
		return false, ioOnly(err)
	}
	if s.hashing {
		s.crc = crc32.Update(s.crc, crc32.IEEETable, b)
	}
	switch op {
	case opSchema, opChannel:
		return true, s.r.cat.add(op, b)
	case opStatistics:
		st, ok := parseStatistics(b)
		s.stats = &st
		return ok, nil
	}
	c, ok := parseChunkIndex(b, s.r.lim.MaxChannels)
	if !ok {
		return false, nil
	}
	if len(s.chunks) >= s.r.lim.MaxChunks {
		return false, &LimitError{What: "chunk count", Size: uint64(len(s.chunks)) + 1, Limit: uint64(s.r.lim.MaxChunks)}
	}
	s.chunks = append(s.chunks, c)
	return true, nil
}

// hash feeds the file bytes [from, to) to the summary CRC, if there is one.
func (s *summaryScan) hash(from, to int64) error {
	for s.hashing && from < to {
		n := min(to-from, windowSize)
		b, err := s.w.at(from, n)
		if err != nil {
			return err
		}
		s.crc = crc32.Update(s.crc, crc32.IEEETable, b)
		from += n
	}
	return nil
}

// finish turns the chunk indexes into segments; false when they do not
// describe the data section (overlapping chunks, chunks outside it, or
// fewer than the statistics count).
func (s *summaryScan) finish() bool {
	if len(s.chunks) == 0 && (s.stats == nil || s.stats.messages > 0) {
		return false // messages outside chunks, or chunks without an index
	}
	if s.stats != nil && int(s.stats.chunks) != len(s.chunks) {
		return false
	}
	if !s.channelsKnown() {
		return false // channels only inside chunks: the walk finds them
	}
	slices.SortFunc(s.chunks, func(a, b chunkIndexRecord) int { return compareU64(a.offset, b.offset) })
	prevEnd := uint64(len(magic))
	for _, c := range s.chunks {
		if c.offset < prevEnd || c.offset > uint64(s.dataEnd) || c.length < recordHeaderSize || c.length > uint64(s.dataEnd)-c.offset {
			return false
		}
		prevEnd = c.offset + c.length
		seg := segment{offset: int64(c.offset), length: int64(c.length), start: c.start, end: c.end, chunk: true, channels: c.channels}
		if err := s.r.addSegment(seg); err != nil {
			return false
		}
	}
	if s.stats != nil && s.stats.messages > 0 {
		s.r.start, s.r.end = s.stats.start, s.stats.end
	}
	s.r.indexed = true
	return true
}

// channelsKnown reports whether the summary has a channel record for every
// channel the chunk indexes name (writers may leave them out of the
// summary), and any at all when the indexes name none.
func (s *summaryScan) channelsKnown() bool {
	if len(s.r.cat.channels) == 0 && len(s.chunks) > 0 {
		return false
	}
	for _, c := range s.chunks {
		for _, id := range c.channels {
			if _, ok := s.r.cat.channels[id]; !ok {
				return false
			}
		}
	}
	return true
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ioOnly keeps the errors that are not about the file's content: a read
// past its end means the summary is unusable, not that reading failed.
func ioOnly(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}
