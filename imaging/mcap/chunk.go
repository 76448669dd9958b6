package mcap

import (
	"errors"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"
)

// chunkReader loads chunks into buffers it reuses: one for the records as
// stored, one for them decompressed. Neither grows past MaxChunkBytes.
type chunkReader struct {
	lim  Limits
	zstd *zstd.Decoder
	raw  []byte
	out  []byte
}

func newChunkReader(lim Limits) *chunkReader { return &chunkReader{lim: lim} }

func (c *chunkReader) close() {
	if c.zstd != nil {
		c.zstd.Close()
	}
}

// load reads the chunk record of length bytes (opcode and length
// included) at pos in one read, and returns its head and its records,
// uncompressed and CRC-checked, valid until the next load. Sizes are
// checked against the limits before any buffer grows. Errors about the
// chunk's content wrap ErrCorrupt or ErrLimit; others are the ReaderAt's.
func (c *chunkReader) load(w *window, pos, length int64) (chunkHead, []byte, error) {
	if err := overLimit("chunk", uint64(length), c.lim.MaxChunkBytes+chunkHeadMax+recordHeaderSize); err != nil {
		return chunkHead{}, nil, err
	}
	if length < recordHeaderSize || length > w.size-pos {
		return chunkHead{}, nil, corrupt("chunk of %d bytes at %d does not fit the file", length, pos)
	}
	c.raw = grow(c.raw, int(length))
	if err := w.readAt(c.raw, pos); err != nil {
		return chunkHead{}, nil, contentEOF(err)
	}
	l := lex{b: c.raw}
	if op, n := l.u8(), l.u64(); op != opChunk || n != uint64(length-recordHeaderSize) {
		return chunkHead{}, nil, corrupt("expected a chunk of %d bytes at %d, found a %s of %d", length-recordHeaderSize, pos, opName(op), n)
	}
	content := c.raw[recordHeaderSize:]
	head, ok := parseChunkHead(content)
	if !ok || head.csize > uint64(len(content))-uint64(head.size) {
		return head, nil, corrupt("chunk head does not fit its record")
	}
	if err := overLimit("chunk", max(head.usize, head.csize), c.lim.MaxChunkBytes); err != nil {
		return head, nil, err
	}
	records, err := c.decompress(head, content[head.size:head.size+int64(head.csize)])
	if err != nil {
		return head, nil, err
	}
	if head.crc != 0 && crc32.ChecksumIEEE(records) != head.crc {
		return head, nil, corrupt("chunk CRC mismatch")
	}
	return head, records, nil
}

func (c *chunkReader) decompress(h chunkHead, src []byte) ([]byte, error) {
	switch h.compression {
	case "":
		if h.usize != h.csize {
			return nil, corrupt("uncompressed chunk of %d bytes claims %d", h.csize, h.usize)
		}
		return src, nil
	case "zstd":
		return c.unzstd(src, h.usize)
	case "lz4":
		return c.unlz4(src, h.usize)
	}
	return nil, corrupt("unknown chunk compression %q", h.compression)
}

func (c *chunkReader) unzstd(src []byte, usize uint64) ([]byte, error) {
	if c.zstd == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(c.lim.MaxChunkBytes)),
			zstd.WithDecoderMaxWindow(uint64(max(c.lim.MaxChunkBytes, zstd.MinWindowSize))))
		if err != nil {
			return nil, err
		}
		c.zstd = d
	}
	out, err := c.zstd.DecodeAll(src, grow(c.out, int(usize))[:0])
	if err != nil {
		return nil, corrupt("zstd: %v", err)
	}
	c.out = out
	if uint64(len(out)) != usize {
		return nil, corrupt("chunk decompresses to %d bytes, claims %d", len(out), usize)
	}
	return out, nil
}

func (c *chunkReader) unlz4(src []byte, usize uint64) ([]byte, error) {
	c.out = grow(c.out, int(usize))
	n, err := unlz4Frames(src, c.out)
	if err != nil {
		return nil, err
	}
	if uint64(n) != usize {
		return nil, corrupt("chunk decompresses to %d bytes, claims %d", n, usize)
	}
	return c.out, nil
}

// grow returns b resized to n bytes, reallocating only when it is too small.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// eachRecord calls fn for each record in a chunk's records, with the
// content's offset in records; records that do not fit are ErrCorrupt.
func eachRecord(records []byte, fn func(op byte, content []byte, off int)) error {
	off := 0
	for off < len(records) {
		l := lex{b: records[off:]}
		op, n := l.u8(), l.u64()
		if !l.ok() || n > uint64(len(l.b)) {
			return corrupt("record at chunk offset %d does not fit the chunk", off)
		}
		start := off + recordHeaderSize
		fn(op, records[start:start+int(n)], start)
		off = start + int(n)
	}
	return nil
}

// contentEOF turns a read past the end of the file into a content error.
func contentEOF(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("chunk runs past the end of the file")
	}
	return err
}

// readErr returns err when it is not about the file's content (reading
// failed), else nil.
func readErr(err error) error {
	if isContentErr(err) {
		return nil
	}
	return err
}

// isContentErr reports whether err is about the file's content (the chunk
// is skipped) rather than reading it (Images stops).
func isContentErr(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, ErrLimit)
}
