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
	// means no end. With Every > 0 they bound the sample times.
	From, To uint64
	// Every samples each topic at a time step, by the rule of
	// imaging/video's Options, in log time: the sample times are Start(),
	// Start()+Every, Start()+2·Every, …; each sample time t in [From, To)
	// takes the topic's first message whose log time is ≥ t, and a message
	// taken by several sample times is delivered once, by the range that
	// holds the first of them. So ranges that tile a log deliver the
	// messages of one call over the whole log, each once (a message after a
	// gap may lie past its range's To). Zero delivers every message with
	// log time in [From, To).
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
// each chunk and chunks in the order of their first log time (log-time
// order throughout unless chunks overlap in time; MCAP writers fill chunks
// in arrival order). It reads only the chunks that overlap the selection
// in time and hold a selected channel (with Every, also the last sample
// step before From, and past To the chunks holding a topic whose last
// sample time before To is still unserved); a file without an index is
// read in the stretches Open found. Problems with one message, chunk or
// topic come to fn as an Image with Err set, and reading goes on. Images
// returns fn's error, ctx's, or the ReaderAt's; after delivering
// everything in a truncated file it returns an error wrapping ErrTruncated.
func (r *Reader) Images(ctx context.Context, sel Selection, fn func(Image) error) error {
	p, problems := r.plan(sel)
	for _, im := range problems {
		if err := fn(im); err != nil {
			return err
		}
	}
	it := &iterator{r: r, p: p, sel: sel, fn: fn, w: &window{ra: r.ra, size: r.size},
		cr: newChunkReader(r.lim), prev: map[string]uint64{}}
	defer it.cr.close()
	it.lo, it.hi = sel.From, sel.To
	if sel.Every > 0 && sel.From > r.start {
		// Read from the last sample time before From: a message there
		// decides whether the next one takes a sample time of this range.
		it.lo = r.start + (sel.From-r.start-1)/uint64(sel.Every)*uint64(sel.Every)
	}
	if err := it.pass(ctx); err != nil {
		return err
	}
	if sel.Every > 0 && sel.To != 0 {
		// Sample times before To whose message comes after it.
		it.lo, it.hi, it.owed = sel.To, 0, it.owedTopics()
		if err := it.pass(ctx); err != nil {
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
