package mcap_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/didicm/didicm/imaging/mcap"
)

// indexedFile builds a file of two chunks (one image each, at t0 and
// t0+10) with a summary: schema, channel, a chunk index per chunk, and
// statistics. edit may change the chunk indexes' fields and the footer's
// summary start before they are written.
func indexedFile(edit func(ix []*chunkIndex, summaryStart *uint64)) []byte {
	return indexedFileChannels(edit, true)
}

// indexedFileChannels is indexedFile, with or without the schema and
// channel records in the summary.
func indexedFileChannels(edit func(ix []*chunkIndex, summaryStart *uint64), channels bool) []byte {
	f := newMCAP()
	var ix []*chunkIndex
	for i := range 2 {
		t := t0 + uint64(10*i)
		content := plainChunk(t, t, oneImage([]byte("png")))
		if i == 1 {
			content = plainChunk(t, t, rec(0x05, messageRecord(1, 2, t, cdrImage("cam", "png", []byte("png2")))))
		}
		ix = append(ix, &chunkIndex{start: t, end: t, offset: uint64(f.Len()), length: uint64(1 + 8 + len(content)), usize: uint64(len(content))})
		f.record(0x06, content)
	}
	f.record(0x0F, u32(0))
	summary := uint64(f.Len())
	if edit != nil {
		edit(ix, &summary) // before the summary is written: it may change the chunk indexes
	}
	if channels {
		f.record(0x03, schemaRecord(1, "sensor_msgs/msg/CompressedImage", "ros2msg"))
		f.record(0x04, channelRecord(1, 1, "/cam", "cdr"))
	}
	for _, c := range ix {
		f.record(0x08, c.content())
	}
	f.record(0x0B, cat(u64(2), u16(1), u32(1), u32(0), u32(0), u32(uint32(len(ix))), u64(t0), u64(t0+10), u32(0)))
	f.record(0x02, cat(u64(summary), u64(0), u32(0)))
	f.Write(mcapMagic)
	return f.Bytes()
}

type chunkIndex struct {
	start, end, offset, length, usize uint64
}

func (c *chunkIndex) content() []byte {
	return cat(u64(c.start), u64(c.end), u64(c.offset), u64(c.length),
		cat(u32(10), u16(1), u64(0)), u64(0), str(""), u64(c.usize), u64(c.usize))
}

func TestCraftedSummaries(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(ix []*chunkIndex, start *uint64)
		indexed    bool
		images     int
		problem    error
		noChannels bool // the summary leaves the schema and channel out
	}{
		{"an intact summary is used", nil, true, 2, nil, false},
		{"a summary without the channels its chunks use is not used", nil, false, 2, nil, true},
		{"a chunk index outside the file is not trusted", func(ix []*chunkIndex, _ *uint64) { ix[1].offset = 1 << 40 }, false, 2, nil, false},
		{"a chunk index with a length past the data section is not trusted", func(ix []*chunkIndex, _ *uint64) { ix[1].length = 1 << 62 }, false, 2, nil, false},
		{"two chunk indexes of one chunk are not trusted", func(ix []*chunkIndex, _ *uint64) { *ix[1] = *ix[0] }, false, 2, nil, false},
		{"a summary start inside the magic is not trusted", func(_ []*chunkIndex, s *uint64) { *s = 3 }, false, 2, nil, false},
		{"a summary start past the footer is not trusted", func(_ []*chunkIndex, s *uint64) { *s = 1 << 50 }, false, 2, nil, false},
		{"a summary start at the first chunk is not trusted", func(ix []*chunkIndex, s *uint64) { *s = ix[0].offset }, false, 2, nil, false},
		{"a chunk index whose length does not match its chunk loses that chunk", func(ix []*chunkIndex, _ *uint64) { ix[1].length -= 3 }, true, 1, mcap.ErrCorrupt, false},
		{"a chunk index pointing at another record loses that chunk", func(ix []*chunkIndex, _ *uint64) { ix[1].offset += 9 }, true, 1, mcap.ErrCorrupt, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := indexedFileChannels(c.edit, !c.noChannels)
			r, err := mcap.Open(bytes.NewReader(data), int64(len(data)), mcap.Limits{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if r.Indexed() != c.indexed {
				t.Errorf("Indexed() = %v, want %v", r.Indexed(), c.indexed)
			}
			gs, err := collect(t, r, mcap.Selection{})
			if err != nil {
				t.Fatal(err)
			}
			images, problems := 0, 0
			for _, g := range gs {
				if g.Err == nil {
					images++
				} else if errors.Is(g.Err, c.problem) && c.problem != nil {
					problems++
				} else {
					t.Fatalf("unexpected problem %v", g.Err)
				}
			}
			if images != c.images || problems != min(1, 2-c.images) {
				t.Fatalf("%d images, %d problems; want %d images", images, problems, c.images)
			}
		})
	}
}
