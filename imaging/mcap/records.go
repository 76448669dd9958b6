package mcap

// The records the reader keeps, parsed from their content bytes. A parser
// returns ok false for content too short for its fields.

type schemaRecord struct {
	id             uint16
	name, encoding string
}

func parseSchema(b []byte) (schemaRecord, bool) {
	l := lex{b: b}
	s := schemaRecord{id: l.u16(), name: l.str(), encoding: l.str()}
	return s, l.ok()
}

type channelRecord struct {
	id, schemaID    uint16
	topic, encoding string
}

func parseChannel(b []byte) (channelRecord, bool) {
	l := lex{b: b}
	c := channelRecord{id: l.u16(), schemaID: l.u16(), topic: l.str(), encoding: l.str()}
	return c, l.ok()
}

// messageHead is a message record's fixed fields; its data follows them.
type messageHead struct {
	channel              uint16
	sequence             uint32
	logTime, publishTime uint64
}

func parseMessageHead(b []byte) (messageHead, bool) {
	l := lex{b: b}
	m := messageHead{channel: l.u16(), sequence: l.u32(), logTime: l.u64(), publishTime: l.u64()}
	return m, l.ok()
}

// chunkHead is a chunk record's fields before its records.
type chunkHead struct {
	start, end  uint64
	usize       uint64
	crc         uint32
	compression string
	csize       uint64
	size        int64 // bytes of content before the records
}

// chunkHeadMax is the most content bytes parseChunkHead reads.
const chunkHeadMax = 8 + 8 + 8 + 4 + 4 + maxName + 8

func parseChunkHead(b []byte) (chunkHead, bool) {
	l := lex{b: b}
	h := chunkHead{start: l.u64(), end: l.u64(), usize: l.u64(), crc: l.u32(), compression: l.str(), csize: l.u64()}
	h.size = int64(len(b) - len(l.b))
	return h, l.ok()
}

type chunkIndexRecord struct {
	start, end       uint64
	offset, length   uint64
	channels         []uint16 // from the message index offsets; nil: not known
	compression      string
	csize, usize     uint64
	messageIndexSize uint64
}

func parseChunkIndex(b []byte, maxChannels int) (chunkIndexRecord, bool) {
	l := lex{b: b}
	c := chunkIndexRecord{start: l.u64(), end: l.u64(), offset: l.u64(), length: l.u64()}
	m := lex{b: l.prefixed()}
	c.messageIndexSize = l.u64()
	c.compression = l.str()
	c.csize, c.usize = l.u64(), l.u64()
	if len(m.b)%10 != 0 || len(m.b)/10 > maxChannels {
		return c, false
	}
	if len(m.b)/10 > maxSegmentChannels {
		return c, l.ok() // too many to keep: channels not known
	}
	for len(m.b) > 0 {
		c.channels = append(c.channels, m.u16())
		m.u64()
	}
	return c, l.ok()
}

type statisticsRecord struct {
	messages   uint64
	chunks     uint32
	start, end uint64
}

func parseStatistics(b []byte) (statisticsRecord, bool) {
	l := lex{b: b}
	s := statisticsRecord{messages: l.u64()}
	l.u16() // schemas
	l.u32() // channels
	l.u32() // attachments
	l.u32() // metadata
	s.chunks = l.u32()
	s.start, s.end = l.u64(), l.u64()
	return s, l.ok()
}
