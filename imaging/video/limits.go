package video

import "time"

// Limits bound what one call reads and allocates, whatever a file's
// header claims. Every field's zero value means its default.
type Limits struct {
	// MaxDuration is the longest stream a header may state, and the latest
	// frame time a call reads to. Zero means DefaultMaxDuration.
	MaxDuration time.Duration
	// MaxFrames is the most frames (error frames included) one Sample call
	// gives. Zero means DefaultMaxFrames.
	MaxFrames int
	// MaxPixels bounds width×height: the stream header's, checked before a
	// decoder is opened, and every decoded frame's (a header may lie).
	// Zero means DefaultMaxPixels.
	MaxPixels int64
	// MaxDecodedBytes bounds the decoding memory estimated from the header
	// before decoding (DecodedBytes). Zero means DefaultMaxDecodedBytes.
	MaxDecodedBytes int64
	// MaxPacketBytes bounds the bytes read for one compressed frame. Zero
	// means DefaultMaxPacketBytes.
	MaxPacketBytes int64
	// MaxHeaderBytes bounds the bytes read to open a file: its container
	// header (an MP4's moov box, a Matroska file's track list) and the
	// packets probed for stream parameters. Zero means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int64
	// MaxStreams is the most streams (video, audio, data) a file may hold.
	// Zero means DefaultMaxStreams.
	MaxStreams int
	// Threads is the decoder's thread count. Zero means 1: a worker decodes
	// one batch per core.
	Threads int
}

// Defaults of Limits.
const (
	DefaultMaxDuration     = 12 * time.Hour
	DefaultMaxFrames       = 100_000
	DefaultMaxPixels       = 8192 * 4320 // 8K
	DefaultMaxDecodedBytes = 1 << 30
	DefaultMaxPacketBytes  = 64 << 20
	DefaultMaxHeaderBytes  = 64 << 20
	DefaultMaxStreams      = 32
)

// WithDefaults returns l with each zero field set to its default.
func (l Limits) WithDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	def(&l.MaxPixels, DefaultMaxPixels)
	def(&l.MaxDecodedBytes, DefaultMaxDecodedBytes)
	def(&l.MaxPacketBytes, DefaultMaxPacketBytes)
	def(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	if l.MaxStreams <= 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.Threads <= 0 {
		l.Threads = 1
	}
	return l
}

// FramePool is the number of decoded frames DecodedBytes assumes a decoder
// of an inter-coded stream holds: the 16 reference frames H.264 and HEVC
// allow at most (VP9 keeps 8), the frames waiting to be reordered for
// output, the one being decoded and one being scaled. An intra-only codec
// (MJPEG) holds the last two alone.
const FramePool = 16 + 4 + 2

// DecodedBytes estimates the memory of decoding a w×h stream of frameBytes
// per decoded frame (all planes, as the header's pixel format gives) into
// outW×outH×channels: a pool of FramePool frames (2 when intra), one more
// per decoder thread, and swscale's output and line buffers.
func DecodedBytes(frameBytes int64, w, outW, outH, channels, threads int, intra bool) int64 {
	pool := int64(FramePool)
	if intra {
		pool = 2
	}
	pool += int64(max(threads, 1) - 1)
	scale := int64(outW)*int64(outH)*int64(channels) + 64*int64(max(w, outW))*8
	return pool*frameBytes + scale
}
