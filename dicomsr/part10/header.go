package part10

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Transfer syntaxes whose datasets ReadHeader reads other than as
// Explicit VR Little Endian.
const (
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
	DeflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian    = "1.2.840.10008.1.2.2"
)

// ErrMalformed marks a header that cannot be read.
var ErrMalformed = errors.New("malformed DICOM header")

// Want is what ReadHeader keeps: tag → the VR to give it when the file
// does not say (Implicit VR).
type Want map[Tag]string

// Header is what ReadHeader kept of a file.
type Header struct {
	// TransferSyntax is the file's (Implicit VR Little Endian for a bare
	// implicit dataset, Explicit VR Little Endian for a bare explicit one).
	TransferSyntax string
	// Elements are the wanted top-level elements found, in file order,
	// values as stored with their padding.
	Elements Dataset
}

// Limits of a header read.
const (
	// MaxValue bounds one kept value; a longer one is an error.
	MaxValue = 64 << 10
	// DefaultMaxHeader bounds the bytes read (inflated, for a deflated
	// file) before the last wanted tag when ReadHeader's max is 0.
	DefaultMaxHeader = 64 << 20
)

// ReadHeader reads r's top-level elements in tag order until the first
// tag after the greatest one in want (or the pixel data, or the end),
// keeping those in want. It reads at most limit bytes of the dataset
// (0: DefaultMaxHeader); a file that needs more is an error wrapping
// ErrMalformed, as is one that breaks the encoding.
func ReadHeader(r io.Reader, want Want, limit int64) (Header, error) {
	if limit <= 0 {
		limit = DefaultMaxHeader
	}
	br := bufio.NewReader(r)
	syntax, err := readPreamble(br)
	if err != nil {
		return Header{}, err
	}
	h := Header{TransferSyntax: syntax}
	s := &stream{r: br, max: limit, explicit: syntax != ImplicitVRLittleEndian, bo: binary.LittleEndian}
	switch syntax {
	case DeflatedExplicitVRLE:
		fr := flate.NewReader(br)
		defer fr.Close()
		s.r = bufio.NewReader(fr)
	case ExplicitVRBigEndian:
		s.bo = binary.BigEndian
	}
	var last Tag
	for t := range want {
		last = max(last, t)
	}
	h.Elements, err = s.top(want, last)
	if err != nil {
		return Header{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, nil
}

// readPreamble reads the preamble and file meta information of a Part 10
// file and returns its transfer syntax, or recognises a bare dataset.
func readPreamble(br *bufio.Reader) (string, error) {
	head, err := br.Peek(132)
	if err == nil && string(head[128:132]) == "DICM" {
		_, _ = br.Discard(132)
		return readMeta(br)
	}
	head, _ = br.Peek(8)
	if len(head) < 8 {
		return "", fmt.Errorf("%w: %d bytes", ErrMalformed, len(head))
	}
	if g := binary.LittleEndian.Uint16(head); g != 0x0008 && g != 0x0002 {
		return "", fmt.Errorf("%w: neither a Part 10 file nor a dataset starting at group 0002 or 0008", ErrMalformed)
	}
	if knownVR(string(head[4:6])) {
		return ExplicitVRLittleEndian, nil
	}
	return ImplicitVRLittleEndian, nil
}

// readMeta reads group 0002 (Explicit VR Little Endian) up to the dataset.
func readMeta(br *bufio.Reader) (string, error) {
	s := &stream{r: br, max: 1 << 20, explicit: true, bo: binary.LittleEndian}
	syntax := ""
	for {
		p, err := br.Peek(2)
		if err != nil || binary.LittleEndian.Uint16(p) != 0x0002 {
			break
		}
		e, keep, err := s.element(Want{0x00020010: "UI"})
		if err != nil {
			return "", fmt.Errorf("%w: file meta: %w", ErrMalformed, err)
		}
		if keep {
			syntax = strings.TrimRight(string(e.Value), "\x00 ")
		}
	}
	if syntax == "" {
		return "", fmt.Errorf("%w: no transfer syntax in the file meta information", ErrMalformed)
	}
	return syntax, nil
}
