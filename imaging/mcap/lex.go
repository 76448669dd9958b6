package mcap

import "encoding/binary"

// lex reads the fields of one record's content, little endian as MCAP
// writes them. Every read checks the bytes left; after the first failure
// every read returns zero values and ok reports false, so a parser reads all
// its fields and checks once.
type lex struct {
	b   []byte
	bad bool
}

func (l *lex) take(n uint64) []byte {
	if l.bad || n > uint64(len(l.b)) {
		l.bad = true
		return nil
	}
	v := l.b[:n:n]
	l.b = l.b[n:]
	return v
}

func (l *lex) u8() uint8 {
	if b := l.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (l *lex) u16() uint16 {
	if b := l.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (l *lex) u32() uint32 {
	if b := l.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (l *lex) u64() uint64 {
	if b := l.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// str reads a uint32-length-prefixed string; longer than maxName is a
// failure (names, topics and encodings are short in every real file).
func (l *lex) str() string {
	n := l.u32()
	if n > maxName {
		l.bad = true
		return ""
	}
	return string(l.take(uint64(n)))
}

// prefixed reads a uint32 byte length and returns that many bytes (a map or
// an array, parsed by the caller with a lex of its own).
func (l *lex) prefixed() []byte { return l.take(uint64(l.u32())) }

func (l *lex) ok() bool { return !l.bad }

// maxName bounds the strings the reader keeps (topics, schema names,
// encodings, compression names).
const maxName = 4096
