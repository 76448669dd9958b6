package mcap

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Selection chooses the messages Images delivers.
type Selection struct {
	// Topics lists the topics to read. Empty means every channel whose
	// schema is a compressed image (Channel.CompressedImage).
	Topics []string
	// From and To bound the log time, [From, To) in nanoseconds; To zero
	// means no end.
	From, To uint64
	// Every samples each topic at a time step: the log's time from Start()
	// is cut into steps [Start+k·Every, Start+(k+1)·Every), and per topic
	// the first message in each step is taken, which is the first message
	// at or after Start+k·Every for every k. The steps do not depend on
	// From and To, so ranges that split a log yield each sample once. Zero
	// takes every message.
	Every time.Duration
}

// Image is one compressed-image message, or a problem in place of one.
type Image struct {
	// Topic is the message's topic.
	Topic string
	// LogTime and PublishTime are the message record's times (ns).
	LogTime, PublishTime uint64
	// Stamp is the message's own timestamp (header.stamp or timestamp), ns.
	Stamp uint64
	// Sequence is the message record's sequence number.
	Sequence uint32
	// FrameID is the camera's frame of reference.
	FrameID string
	// Format is "jpeg" or "png" when the message's format names one of
	// them, else the format as given.
	Format string
	// Data is the compressed payload. It is valid only until the callback
	// returns: copy it to keep it.
	Data []byte
	// Err, when set, says why this message, chunk or topic gives no image:
	// a selected topic that is missing (ErrNoTopic) or not a compressed
	// image (ErrUnsupportedSchema), a message that does not decode
	// (ErrMalformedMessage) or is over a limit (*LimitError), or a chunk
	// that cannot be read (*ChunkError, with LogTime its first log time
	// and Topic empty). The other fields say as much as is known.
	Err error
}

// Images calls fn for each selected message, in log-time order within
// each chunk and chunks in the order of their first log time (log time
// order throughout unless chunks overlap in time; MCAP writers fill chunks
// in arrival order). It reads only the chunks that overlap the selection
// in time and hold a selected channel; a file without an index is read in
// the stretches Open found. Problems with one message, chunk or topic come
// to fn as an Image with Err set, and reading goes on. Images returns fn's
// error, ctx's, or the ReaderAt's; after delivering everything in a
// truncated file it returns an error wrapping ErrTruncated.
func (r *Reader) Images(ctx context.Context, sel Selection, fn func(Image) error) error {
	p, problems := r.plan(sel)
	for _, im := range problems {
		if err := fn(im); err != nil {
			return err
		}
	}
	it := &iterator{r: r, p: p, sel: sel, fn: fn, w: &window{ra: r.ra, size: r.size},
		cr: newChunkReader(r.lim), last: map[string]uint64{}}
	defer it.cr.close()
	it.lo = sel.From
	if sel.Every > 0 && sel.From > r.start {
		// Read from the start of From's step, to know whether a message
		// before From already took it.
		it.lo = r.start + (sel.From-r.start)/uint64(sel.Every)*uint64(sel.Every)
	}
	for _, s := range r.segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.end < it.lo || (sel.To != 0 && s.start >= sel.To) || !p.wants(s) {
			continue
		}
		if err := it.segment(s); err != nil {
			return err
		}
	}
	return r.tail
}

// plan is what a Selection resolves to: the channels to decode.
type plan struct {
	decoders map[uint16]decodeFunc
	topics   map[uint16]string
}

func (r *Reader) plan(sel Selection) (plan, []Image) {
	p := plan{decoders: map[uint16]decodeFunc{}, topics: map[uint16]string{}}
	var problems []Image
	found := map[string]bool{}
	for id, c := range r.cat.channels {
		if len(sel.Topics) > 0 && !slices.Contains(sel.Topics, c.topic) {
			continue
		}
		s := r.cat.schemas[c.schemaID]
		dec := decoderFor(s.name, c.encoding)
		found[c.topic] = true
		if dec == nil {
			if len(sel.Topics) > 0 {
				problems = append(problems, Image{Topic: c.topic, Err: unsupported(c.topic, s.name, c.encoding)})
			}
			continue
		}
		p.decoders[id], p.topics[id] = dec, c.topic
	}
	for _, t := range sel.Topics {
		if !found[t] {
			problems = append(problems, Image{Topic: t, Err: fmt.Errorf("topic %q: %w", t, ErrNoTopic)})
			found[t] = true
		}
	}
	slices.SortStableFunc(problems, func(a, b Image) int { return strings.Compare(a.Topic, b.Topic) })
	return p, problems
}

// wants reports whether segment s may hold a selected message, or is a
// chunk Open could not read (reported whatever the selection: its
// channels are not known).
func (p plan) wants(s segment) bool {
	if s.err != nil {
		return true
	}
	if s.channels == nil {
		return len(p.decoders) > 0
	}
	for _, c := range s.channels {
		if _, ok := p.decoders[c]; ok {
			return true
		}
	}
	return false
}
