package mcap

// Limits bounds what a file can make the reader hold in memory, whatever
// its headers claim: every length is checked against these before anything
// is allocated. An Images call holds one chunk as stored and decompressed
// and the messages it selects from it (about three times MaxChunkBytes at
// most); a Reader holds its chunk index (under 200 bytes a chunk) and the
// schema and channel names (4 KiB each at most: longer ones make the record
// malformed). A zero field means its default.
type Limits struct {
	// MaxRecordBytes bounds a record read whole outside a chunk (schema,
	// channel and summary records). Zero means 16 MiB.
	MaxRecordBytes int64
	// MaxChunkBytes bounds a chunk's records, compressed or not; a chunk
	// claiming more is a ChunkError and reading goes on. Zero means 128 MiB.
	MaxChunkBytes int64
	// MaxMessageBytes bounds one message record. Zero means 80 MiB.
	MaxMessageBytes int64
	// MaxImageBytes bounds one compressed image payload; pass the image
	// decoder's limit on encoded bytes. Zero means 64 MiB.
	MaxImageBytes int64
	// MaxChannels and MaxSchemas bound the distinct IDs kept. Zero means
	// 4096 each.
	MaxChannels, MaxSchemas int
	// MaxChunks bounds the chunks (and runs of messages outside chunks)
	// indexed in memory. Zero means 1<<18.
	MaxChunks int
}

// The limits when none are configured.
const (
	DefaultMaxRecordBytes  = 16 << 20
	DefaultMaxChunkBytes   = 128 << 20
	DefaultMaxMessageBytes = 80 << 20
	DefaultMaxImageBytes   = 64 << 20
	DefaultMaxChannels     = 4096
	DefaultMaxSchemas      = 4096
	DefaultMaxChunks       = 1 << 18
)

// withDefaults returns l with each zero (or negative) field set to its default.
func (l Limits) withDefaults() Limits {
	def64 := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def64(&l.MaxRecordBytes, DefaultMaxRecordBytes)
	def64(&l.MaxChunkBytes, DefaultMaxChunkBytes)
	def64(&l.MaxMessageBytes, DefaultMaxMessageBytes)
	def64(&l.MaxImageBytes, DefaultMaxImageBytes)
	defInt(&l.MaxChannels, DefaultMaxChannels)
	defInt(&l.MaxSchemas, DefaultMaxSchemas)
	defInt(&l.MaxChunks, DefaultMaxChunks)
	return l
}
