package mcap_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/didicm/didicm/imaging/mcap"
)

// allocated returns the bytes f allocates (garbage included: TotalAlloc
// only grows).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const t0 = uint64(1_700_000_000_000_000_000)

// oneImage is a chunk's records: the image schema and channel 1 and one
// message.
func oneImage(payload []byte) []byte {
	return cat(rec(0x03, schemaRecord(1, "sensor_msgs/msg/CompressedImage", "ros2msg")),
		rec(0x04, channelRecord(1, 1, "/cam", "cdr")),
		rec(0x05, messageRecord(1, 1, t0, cdrImage("cam", "png", payload))))
}

func zstdFrame(t testing.TB, data []byte, withSize bool) []byte {
	t.Helper()
	if withSize {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		return enc.EncodeAll(data, nil)
	}
	var b bytes.Buffer
	enc, err := zstd.NewWriter(&b, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	enc.Write(data)
	enc.Close()
	return b.Bytes()
}

func lz4Frame(t testing.TB, data []byte, opts ...lz4.Option) []byte {
	t.Helper()
	var b bytes.Buffer
	w := lz4.NewWriter(&b)
	if err := w.Apply(opts...); err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

type craftedCase struct {
	name    string
	file    func(t testing.TB) []byte
	lim     mcap.Limits
	openErr error // Open fails with it
	problem error // one delivered Image has this Err
	images  int   // images delivered without Err
	err     error // Images returns it
}

func chunkFile(content []byte) func(testing.TB) []byte {
	return func(testing.TB) []byte { return newMCAP().record(0x06, content).end() }
}

// bomb is 64 MiB of zeros: it compresses to almost nothing.
func bomb() []byte { return make([]byte, 64<<20) }

func craftedCases() []craftedCase {
	small := mcap.Limits{MaxChunkBytes: 1 << 20, MaxMessageBytes: 1 << 20, MaxImageBytes: 1 << 20}
	return []craftedCase{
		{name: "a chunk claiming 4 GiB is refused before anything is allocated",
			file:    chunkFile(chunkRecord(t0, t0, 4<<30, 0, "zstd", []byte{1, 2, 3})),
			problem: mcap.ErrLimit},
		{name: "a zstd frame declaring 64 MiB in a chunk claiming 1 KiB stops at the limit",
			file: func(t testing.TB) []byte {
				return chunkFile(chunkRecord(t0, t0, 1024, 0, "zstd", zstdFrame(t, bomb(), true)))(t)
			},
			lim: small, problem: mcap.ErrCorrupt},
		{name: "a zstd stream inflating to 64 MiB without a declared size stops at the limit",
			file: func(t testing.TB) []byte {
				return chunkFile(chunkRecord(t0, t0, 1024, 0, "zstd", zstdFrame(t, bomb(), false)))(t)
			},
			lim: small, problem: mcap.ErrCorrupt},
		{name: "an lz4 stream inflating to 64 MiB in a chunk claiming 1 KiB stops at the claim",
			file: func(t testing.TB) []byte {
				return chunkFile(chunkRecord(t0, t0, 1024, 0, "lz4", lz4Frame(t, bomb())))(t)
			},
			lim: small, problem: mcap.ErrCorrupt},
		{name: "an lz4 chunk of 64 KiB blocks with block and content checksums decodes",
			file: func(t testing.TB) []byte {
				records := oneImage(bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz!"), 9000))
				return chunkFile(chunkRecord(t0, t0, uint64(len(records)), crc32.ChecksumIEEE(records), "lz4",
					lz4Frame(t, records, lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(true), lz4.ChecksumOption(true))))(t)
			},
			images: 1},
		{name: "a chunk whose records length runs past its record is corrupt",
			file:    chunkFile(cat(u64(t0), u64(t0), u64(10), u32(0), str(""), u64(1<<62), []byte("0123456789"))),
			problem: mcap.ErrCorrupt},
		{name: "a chunk with an unknown compression is corrupt",
			file:    chunkFile(chunkRecord(t0, t0, 3, 0, "brotli", []byte{1, 2, 3})),
			problem: mcap.ErrCorrupt},
		{name: "a message whose length runs past its chunk is corrupt",
			file: chunkFile(plainChunk(t0, t0, cat(oneImage([]byte("png")),
				[]byte{0x05}, u64(1<<40), []byte("short")))),
			problem: mcap.ErrCorrupt, images: 1},
		{name: "a record claiming 2^64 bytes is where the file is cut",
			file: func(testing.TB) []byte {
				f := newMCAP().imageChannel(1, "/cam")
				f.record(0x05, messageRecord(1, 1, t0, cdrImage("c", "png", []byte("img"))))
				f.WriteByte(0x05)
				f.Write(u64(^uint64(0) - 8))
				return f.Bytes()
			},
			images: 1, err: mcap.ErrTruncated},
		{name: "a message over MaxMessageBytes outside chunks is reported, not read",
			file: func(testing.TB) []byte {
				f := newMCAP().imageChannel(1, "/cam")
				f.record(0x05, messageRecord(1, 1, t0, cdrImage("c", "png", make([]byte, 2<<20))))
				return f.end()
			},
			lim: small, problem: mcap.ErrLimit},
		{name: "a payload over MaxImageBytes is reported",
			file: chunkFile(plainChunk(t0, t0, oneImage(make([]byte, 5000)))),
			lim:  mcap.Limits{MaxImageBytes: 4096}, problem: mcap.ErrLimit},
		{name: "a CDR string claiming 4 GiB is a malformed message",
			file: chunkFile(plainChunk(t0, t0, cat(oneImage(nil),
				rec(0x05, messageRecord(1, 2, t0+1, cat([]byte{0, 1, 0, 0}, u32(1), u32(2), u32(0xFFFFFFFF), []byte("x"))))))),
			problem: mcap.ErrMalformedMessage, images: 1},
		{name: "a chunk with more channels than a segment keeps is read whole",
			file: func(testing.TB) []byte {
				records := rec(0x03, schemaRecord(1, "sensor_msgs/msg/CompressedImage", "ros2msg"))
				for i := range 70 {
					records = cat(records, rec(0x04, channelRecord(uint16(i+1), 1, fmt.Sprintf("/cam/%d", i), "cdr")),
						rec(0x05, messageRecord(uint16(i+1), 1, t0+uint64(i), cdrImage("c", "png", []byte("img")))))
				}
				return newMCAP().record(0x06, plainChunk(t0, t0+69, records)).end()
			},
			images: 70},
		{name: "more channels than MaxChannels fail Open",
			file: func(testing.TB) []byte {
				f := newMCAP().imageChannel(1, "/cam")
				for i := range 20 {
					f.record(0x04, channelRecord(uint16(i+2), 1, "/t", "cdr"))
				}
				return f.end()
			},
			lim: mcap.Limits{MaxChannels: 10}, openErr: mcap.ErrLimit},
		{name: "more chunks than MaxChunks fail Open",
			file: func(testing.TB) []byte {
				f := newMCAP()
				for range 20 {
					f.record(0x06, plainChunk(t0, t0, oneImage([]byte("p"))))
				}
				return f.end()
			},
			lim: mcap.Limits{MaxChunks: 10}, openErr: mcap.ErrLimit},
		{name: "an invalid opcode ends the walk as corrupt",
			file: func(testing.TB) []byte {
				f := newMCAP().record(0x06, plainChunk(t0, t0, oneImage([]byte("p"))))
				return f.record(0x00, nil).end()
			},
			images: 1, err: mcap.ErrCorrupt},
		{name: "content that is not MCAP is refused",
			file:    func(testing.TB) []byte { return []byte("\x89PNG\r\n\x1a\n and more") },
			openErr: mcap.ErrNotMCAP},
		{name: "an empty file is refused",
			file:    func(testing.TB) []byte { return nil },
			openErr: mcap.ErrNotMCAP},
		{name: "the magic alone is a file cut before its header",
			file: func(testing.TB) []byte { return mcapMagic },
			err:  mcap.ErrTruncated},
	}
}

func TestCraftedFiles(t *testing.T) {
	for _, c := range craftedCases() {
		t.Run(c.name, func(t *testing.T) {
			data := c.file(t)
			var r *mcap.Reader
			var openErr, err error
			var gs []got
			mem := allocated(func() {
				r, openErr = mcap.Open(bytes.NewReader(data), int64(len(data)), c.lim)
				if openErr == nil {
					gs, err = collect(t, r, mcap.Selection{})
				}
			})
			// Two copies of the file at most (Open's walk and Images each
			// hold a chunk), plus lz4's block buffer (4 MiB at most by
			// the frame format) and the decoders' tables.
			t.Logf("allocated %d bytes reading a %d-byte file", mem, len(data))
			if bound := uint64(6<<20 + 2*len(data)); mem > bound {
				t.Errorf("allocated %d bytes reading a %d-byte file, over %d", mem, len(data), bound)
			}
			checkCrafted(t, c, openErr, err, gs)
		})
	}
}

func checkCrafted(t *testing.T, c craftedCase, openErr, err error, gs []got) {
	t.Helper()
	if c.openErr != nil || openErr != nil {
		if !errors.Is(openErr, c.openErr) {
			t.Fatalf("Open: %v, want %v", openErr, c.openErr)
		}
		return
	}
	if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
		t.Fatalf("Images: %v, want %v", err, c.err)
	}
	images, problems := 0, 0
	for _, g := range gs {
		switch {
		case g.Err == nil:
			images++
		case c.problem != nil && errors.Is(g.Err, c.problem):
			problems++
		default:
			t.Fatalf("unexpected problem: %v", g.Err)
		}
	}
	if images != c.images || (c.problem != nil) != (problems == 1) || problems > 1 {
		t.Fatalf("%d images and %d problems, want %d images and one %v", images, problems, c.images, c.problem)
	}
}
