package mcap

import (
	"errors"
	"fmt"
	"io"
)

// Record opcodes (MCAP specification, "Records").
const (
	opHeader         = 0x01
	opFooter         = 0x02
	opSchema         = 0x03
	opChannel        = 0x04
	opMessage        = 0x05
	opChunk          = 0x06
	opMessageIndex   = 0x07
	opChunkIndex     = 0x08
	opStatistics     = 0x0B
	opDataEnd        = 0x0F
	recordHeaderSize = 1 + 8
	footerSize       = recordHeaderSize + 8 + 8 + 4
	messageHeadSize  = 2 + 4 + 8 + 8
)

// magic opens and closes every MCAP file (major version 0).
var magic = []byte{0x89, 'M', 'C', 'A', 'P', 0x30, '\r', '\n'}

// window reads a file through one reusable buffer, so that walking many
// small records costs few ReadAt calls: a read inside the window is served
// from it, anything else refills it from that offset.
type window struct {
	ra   io.ReaderAt
	size int64
	buf  []byte // file bytes [off, off+len(buf))
	off  int64
	big  []byte // reused for reads larger than the window
}

const windowSize = 16 << 10

// at returns n bytes from pos, valid until the next call. A read past the
// end of the file returns io.ErrUnexpectedEOF; n must already be bounded
// by a limit (larger reads share a second buffer).
func (w *window) at(pos int64, n int64) ([]byte, error) {
	if pos < 0 || n < 0 || pos > w.size || n > w.size-pos {
		return nil, io.ErrUnexpectedEOF
	}
	if pos >= w.off && pos+n <= w.off+int64(len(w.buf)) {
		return w.buf[pos-w.off : pos-w.off+n], nil
	}
	if n > windowSize {
		w.big = grow(w.big, int(n))
		return w.big, w.readAt(w.big, pos)
	}
	fill := min(int64(windowSize), w.size-pos)
	if cap(w.buf) < windowSize {
		w.buf = make([]byte, 0, windowSize)
	}
	w.buf = w.buf[:fill]
	w.off = pos
	if err := w.readAt(w.buf, pos); err != nil {
		w.buf = w.buf[:0]
		return nil, err
	}
	return w.buf[:n], nil
}

func (w *window) readAt(b []byte, pos int64) error {
	n, err := w.ra.ReadAt(b, pos)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read MCAP at %d: %w", pos, err)
}

// recordAt reads the opcode and content length of the record at pos and
// checks that the content fits in the file.
func (w *window) recordAt(pos int64) (op byte, length uint64, err error) {
	b, err := w.at(pos, recordHeaderSize)
	if err != nil {
		return 0, 0, err
	}
	l := lex{b: b}
	op, length = l.u8(), l.u64()
	if length > uint64(w.size-pos-recordHeaderSize) {
		return op, length, io.ErrUnexpectedEOF
	}
	return op, length, nil
}
