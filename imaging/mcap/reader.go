package mcap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// Reader reads the compressed images of one MCAP file. Open builds it; it
// holds the file's channels and where its chunks are, never message data,
// and is safe for concurrent use.
type Reader struct {
	ra      io.ReaderAt
	size    int64
	lim     Limits
	cat     catalog
	segs    []segment // in log-time order of their first message
	start   uint64
	end     uint64
	indexed bool
	tail    error // why the data section ends early (*TruncatedError or corrupt), or nil
}

// segment is a stretch of the data section Images reads as one: a chunk
// record, or a run of message records outside chunks.
type segment struct {
	offset, length int64 // the chunk record, or the run's records
	start, end     uint64
	chunk          bool
	channels       []uint16 // channels with messages in it; nil: not known (or more than maxSegmentChannels)
	err            error    // the chunk could not be read when Open walked it
}

// maxSegmentChannels bounds the channel IDs kept per segment, so that the
// index in memory stays within MaxChunks times a constant; a segment with
// more is read whenever a channel is selected.
const maxSegmentChannels = 64

// addChannel records that segment channels has a message on channel c.
func addChannel(channels []uint16, c uint16) []uint16 {
	if channels == nil || slices.Contains(channels, c) {
		return channels
	}
	if len(channels) == maxSegmentChannels {
		return nil
	}
	return append(channels, c)
}

// Channel describes one channel of the file.
type Channel struct {
	// Topic is the channel's topic, e.g. "/cam/front/compressed".
	Topic string
	// MessageEncoding is "cdr", "protobuf", "json", ...
	MessageEncoding string
	// SchemaName and SchemaEncoding come from the channel's schema; both
	// are empty for a channel without one.
	SchemaName, SchemaEncoding string
	// CompressedImage is true when Images decodes the channel's messages.
	CompressedImage bool
}

// Open reads the structure of an MCAP file of size bytes. With an intact
// summary (footer, summary section with a chunk index for every chunk, and
// a matching summary CRC when one is written) it reads only the summary;
// otherwise it walks the data section once, decompressing each chunk to find
// its channels and times. A file cut off before its end (no footer) opens
// with what its complete records hold; Images then returns an error
// wrapping ErrTruncated after delivering them. Open fails with ErrNotMCAP
// for other content, a *LimitError when the file has more channels,
// schemas or chunks than lim allows, and the ReaderAt's own errors.
func Open(ra io.ReaderAt, size int64, lim Limits) (*Reader, error) {
	r := &Reader{ra: ra, size: size, lim: lim.withDefaults()}
	w := &window{ra: ra, size: size}
	head, err := w.at(0, int64(len(magic)))
	if errors.Is(err, io.ErrUnexpectedEOF) || (err == nil && !bytes.Equal(head, magic)) {
		return nil, ErrNotMCAP
	}
	if err != nil {
		return nil, err
	}
	r.cat = newCatalog(r.lim)
	ok, err := r.readSummary(w)
	if err != nil {
		return nil, err
	}
	if !ok {
		r.cat = newCatalog(r.lim)
		r.segs = nil
		cr := newChunkReader(r.lim)
		defer cr.close()
		if err := r.walk(w, cr); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(r.segs, func(i, j int) bool {
		a, b := r.segs[i], r.segs[j]
		return a.start < b.start || (a.start == b.start && a.offset < b.offset)
	})
	return r, nil
}

// Channels returns the file's channels in channel ID order.
func (r *Reader) Channels() []Channel {
	ids := make([]uint16, 0, len(r.cat.channels))
	for id := range r.cat.channels {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Channel, 0, len(ids))
	for _, id := range ids {
		c := r.cat.channels[id]
		s := r.cat.schemas[c.schemaID]
		out = append(out, Channel{
			Topic: c.topic, MessageEncoding: c.encoding,
			SchemaName: s.name, SchemaEncoding: s.encoding,
			CompressedImage: decoderFor(s.name, c.encoding) != nil,
		})
	}
	return out
}

// Start returns the log time of the file's first message (ns); zero for a
// file without messages.
func (r *Reader) Start() uint64 { return r.start }

// End returns the log time of the file's last message (ns).
func (r *Reader) End() uint64 { return r.end }

// Indexed reports whether Images seeks through the file's chunk index
// (true) or reads the stretches Open found by walking the data section.
func (r *Reader) Indexed() bool { return r.indexed }

// addSegment appends s and widens the file's time span to cover it.
func (r *Reader) addSegment(s segment) error {
	if len(r.segs) >= r.lim.MaxChunks {
		return &LimitError{What: "chunk count", Size: uint64(len(r.segs)) + 1, Limit: uint64(r.lim.MaxChunks)}
	}
	if s.err == nil && (s.start != 0 || s.end != 0) {
		r.widen(s.start, s.end)
	}
	r.segs = append(r.segs, s)
	return nil
}

func (r *Reader) widen(start, end uint64) {
	if r.start == 0 && r.end == 0 {
		r.start, r.end = start, end
		return
	}
	r.start, r.end = min(r.start, start), max(r.end, end)
}

// catalog holds the schemas and channels seen, within the limits.
type catalog struct {
	lim      Limits
	schemas  map[uint16]schemaRecord
	channels map[uint16]channelRecord
}

func newCatalog(lim Limits) catalog {
	return catalog{lim: lim, schemas: map[uint16]schemaRecord{}, channels: map[uint16]channelRecord{}}
}

// add registers a schema or channel record's content; the first record of
// an ID wins. Malformed records are skipped.
func (c *catalog) add(op byte, content []byte) error {
	switch op {
	case opSchema:
		s, ok := parseSchema(content)
		if _, seen := c.schemas[s.id]; !ok || seen || s.id == 0 {
			return nil
		}
		if len(c.schemas) >= c.lim.MaxSchemas {
			return &LimitError{What: "schema count", Size: uint64(len(c.schemas)) + 1, Limit: uint64(c.lim.MaxSchemas)}
		}
		c.schemas[s.id] = s
	case opChannel:
		ch, ok := parseChannel(content)
		if _, seen := c.channels[ch.id]; !ok || seen {
			return nil
		}
		if len(c.channels) >= c.lim.MaxChannels {
			return &LimitError{What: "channel count", Size: uint64(len(c.channels)) + 1, Limit: uint64(c.lim.MaxChannels)}
		}
		c.channels[ch.id] = ch
	}
	return nil
}

// catalogHeadMax is the most of a schema or channel record add needs: the
// ID fields and two strings (the schema data and channel metadata after
// them are never read).
const catalogHeadMax = 2 + 2 + 2*(4+maxName)

// opName names the record type of an opcode in messages.
func opName(op byte) string {
	switch op {
	case opChunk:
		return "chunk"
	case opMessage:
		return "message"
	}
	return fmt.Sprintf("record 0x%02x", op)
}
