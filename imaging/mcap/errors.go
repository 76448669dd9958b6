package mcap

import (
	"errors"
	"fmt"
)

// Conditions a caller branches on. Each error the package returns or
// reports through Image.Err wraps one of them.
var (
	// ErrNotMCAP: the input does not start with the MCAP magic.
	ErrNotMCAP = errors.New("not an MCAP file")
	// ErrTruncated: the data section ends before a complete record (a log
	// cut off by a crash). Images returns it after delivering every
	// complete message before the cut; see TruncatedError.
	ErrTruncated = errors.New("MCAP file truncated")
	// ErrCorrupt: a chunk or record is malformed (bad CRC, compression
	// stream, or lengths that do not fit); see ChunkError.
	ErrCorrupt = errors.New("corrupt MCAP data")
	// ErrLimit: something the file claims is over a Limits bound; see
	// LimitError.
	ErrLimit = errors.New("over an MCAP limit")
	// ErrUnsupportedSchema: a selected topic's schema or message encoding
	// is not a compressed image this package decodes.
	ErrUnsupportedSchema = errors.New("unsupported MCAP schema")
	// ErrNoTopic: a selected topic has no channel in the file.
	ErrNoTopic = errors.New("no such MCAP topic")
	// ErrMalformedMessage: a message does not decode under its schema.
	ErrMalformedMessage = errors.New("malformed MCAP message")
)

// TruncatedError says where the data section stops.
type TruncatedError struct {
	// Offset is the file offset of the first incomplete record.
	Offset int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("MCAP file truncated: incomplete record at offset %d", e.Offset)
}

// Unwrap makes errors.Is(err, ErrTruncated) true.
func (e *TruncatedError) Unwrap() error { return ErrTruncated }

// ChunkError is a chunk that could not be read; reading goes on with the
// next chunk.
type ChunkError struct {
	// Offset is the chunk record's file offset.
	Offset int64
	// Start and End are the log times the chunk claims to cover (ns).
	Start, End uint64
	// Err says what is wrong; it wraps ErrCorrupt or ErrLimit.
	Err error
}

func (e *ChunkError) Error() string {
	return fmt.Sprintf("MCAP chunk at offset %d: %v", e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *ChunkError) Unwrap() error { return e.Err }

// LimitError is a size a file claims that is over its bound in Limits.
type LimitError struct {
	// What names the bounded thing ("chunk", "message", "image", ...).
	What string
	// Size is what the file claims, Limit the bound.
	Size, Limit uint64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("MCAP %s of %d bytes over the limit of %d", e.What, e.Size, e.Limit)
}

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

// corrupt returns an error wrapping ErrCorrupt.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// overLimit returns a *LimitError when size > limit, else nil.
func overLimit(what string, size uint64, limit int64) error {
	if size > uint64(limit) {
		return &LimitError{What: what, Size: size, Limit: uint64(limit)}
	}
	return nil
}
