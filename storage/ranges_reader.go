package storage

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// rangeWindow is how much a RangeReader reads per request: video decoders
// ask for a few hundred kB at a time, and on S3 each request is a round
// trip.
const rangeWindow = 4 << 20

// RangeReader reads one object in pieces (io.ReaderAt), one request per
// window of rangeWindow bytes, keeping the last window read: for files read
// in parts, such as videos larger than a job's read limit. It is safe for
// concurrent use.
type RangeReader struct {
	ctx  context.Context
	b    *Bucket
	key  string
	size int64

	mu     sync.Mutex
	winOff int64
	win    []byte
}

// OpenRange opens key for reading in pieces; ctx bounds every read.
func (b *Bucket) OpenRange(ctx context.Context, key string) (*RangeReader, error) {
	if b.local != "" { // check where a link leads before telling its size
		r, err := b.b.NewRangeReader(ctx, key, 0, 0, b.readerOptions())
		if err != nil {
			return nil, wrapErr("read", key, err)
		}
		_ = r.Close() // nothing was read
	}
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return nil, wrapErr("stat", key, err)
	}
	return &RangeReader{ctx: ctx, b: b, key: key, size: a.Size}, nil
}

// Size is the object's size in bytes.
func (r *RangeReader) Size() int64 { return r.size }

// ReadAt reads len(p) bytes at off, or fewer and io.EOF at the object's end.
func (r *RangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %q at %d: negative offset", r.key, off)
	}
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		m, err := r.fromWindow(p[n:], off+int64(n))
		if err != nil {
			return n, err
		}
		n += m
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fromWindow copies what it can of p at off from the window, reading the
// window at off first when it does not hold off.
func (r *RangeReader) fromWindow(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < r.winOff || off >= r.winOff+int64(len(r.win)) {
		length := min(int64(max(len(p), rangeWindow)), r.size-off)
		rr, err := r.b.b.NewRangeReader(r.ctx, r.key, off, length, r.b.readerOptions())
		if err != nil {
			return 0, wrapErr("read", r.key, err)
		}
		buf := r.win[:0]
		if int64(cap(buf)) < length {
			buf = make([]byte, length)
		}
		buf = buf[:length]
		_, err = io.ReadFull(rr, buf)
		_ = rr.Close() // the read's error is the one to report
		if err != nil {
			r.win = nil
			return 0, wrapErr("read", r.key, err)
		}
		r.winOff, r.win = off, buf
	}
	return copy(p, r.win[off-r.winOff:]), nil
}
