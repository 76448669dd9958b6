package mcap

import (
	"encoding/binary"

	"github.com/pierrec/lz4/v4"
)

// unlz4Frames decodes LZ4 frames (the lz4 chunk compression) from src into
// out, which has exactly the size the chunk claims: each block decodes
// straight into out, with the output before it as the dictionary of
// linked blocks, so nothing is allocated and no block can write past the
// claim. Checksums are not verified: the chunk's CRC covers the output.
// It returns the bytes written.
func unlz4Frames(src, out []byte) (int, error) {
	n := 0
	for len(src) > 0 {
		if len(src) < 4 {
			return n, corrupt("lz4: %d stray bytes after a frame", len(src))
		}
		switch m := binary.LittleEndian.Uint32(src); {
		case m&0xFFFFFFF0 == 0x184D2A50: // skippable frame
			if len(src) < 8 || uint64(binary.LittleEndian.Uint32(src[4:])) > uint64(len(src)-8) {
				return n, corrupt("lz4: skippable frame runs past the chunk")
			}
			src = src[8+binary.LittleEndian.Uint32(src[4:]):]
			continue
		case m != 0x184D2204:
			return n, corrupt("lz4: no frame magic")
		}
		var err error
		if src, n, err = unlz4Frame(src[4:], out, n); err != nil {
			return n, err
		}
	}
	return n, nil
}

// unlz4Frame decodes one frame after its magic into out[n:] and returns
// what follows the frame.
func unlz4Frame(src, out []byte, n int) ([]byte, int, error) {
	if len(src) < 3 || src[0]>>6 != 1 {
		return nil, n, corrupt("lz4: bad frame descriptor")
	}
	flg := src[0]
	blockSums, contentSum := flg&0x10 != 0, flg&0x04 != 0
	head := 3 // FLG, BD, header checksum
	if flg&0x08 != 0 {
		head += 8 // content size
	}
	if flg&0x01 != 0 {
		head += 4 // dictionary ID
	}
	if len(src) < head {
		return nil, n, corrupt("lz4: frame descriptor runs past the chunk")
	}
	src = src[head:]
	for {
		if len(src) < 4 {
			return nil, n, corrupt("lz4: frame ends without its end mark")
		}
		word := binary.LittleEndian.Uint32(src)
		src = src[4:]
		if word == 0 {
			break
		}
		raw, size := word&0x80000000 != 0, int(word&0x7FFFFFFF)
		if size > len(src) {
			return nil, n, corrupt("lz4: block runs past the chunk")
		}
		w, err := unlz4Block(src[:size], out, n, raw)
		if err != nil {
			return nil, n, err
		}
		n += w
		src = src[size:]
		if blockSums {
			src = src[min(4, len(src)):]
		}
	}
	if contentSum {
		src = src[min(4, len(src)):]
	}
	return src, n, nil
}

func unlz4Block(block, out []byte, n int, raw bool) (int, error) {
	if raw {
		if len(block) > len(out)-n {
			return 0, corrupt("lz4: chunk decompresses to more than the %d bytes it claims", len(out))
		}
		return copy(out[n:], block), nil
	}
	w, err := lz4.UncompressBlockWithDict(block, out[n:], out[max(0, n-64<<10):n])
	if err != nil {
		return 0, corrupt("lz4: block at output %d: %v (or more than the %d bytes claimed)", n, err, len(out))
	}
	return w, nil
}
