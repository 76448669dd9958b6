//go:build cgo && !novideo

package ffmpeg

// closedKeys say, for the codecs whose key frames may start a closed GOP,
// whether a key packet does: nothing after it in decoding order refers to a
// frame before it. VP8, VP9 and AV1 key frames always do, as do MJPEG's
// frames; an H.264 or HEVC key packet does when it holds an IDR picture (a
// HEVC CRA or an H.264 recovery point may have leading pictures that refer
// back). Other codecs skip nothing.
var closedKeys = map[string]func(pkt, extradata []byte) bool{
	"vp8":   func([]byte, []byte) bool { return true },
	"vp9":   func([]byte, []byte) bool { return true },
	"av1":   func([]byte, []byte) bool { return true },
	"mjpeg": func([]byte, []byte) bool { return true },
	"h264": func(pkt, extra []byte) bool {
		return firstSlice(pkt, extra, 4, func(h []byte) (bool, bool) {
			switch h[0] & 0x1F {
			case 5:
				return true, true // IDR slice
			case 1, 2:
				return true, false // a non-IDR slice or partition
			}
			return false, false
		})
	},
	"hevc": func(pkt, extra []byte) bool {
		return firstSlice(pkt, extra, 21, func(h []byte) (bool, bool) {
			switch t := h[0] >> 1 & 0x3F; {
			case t == 19 || t == 20:
				return true, true // IDR_W_RADL, IDR_N_LP
			case t < 32:
				return true, false // any other picture
			}
			return false, false
		})
	},
}

// firstSlice applies slice to the NAL units of pkt until it says it found
// the first picture's NAL (done) and returns what it said about it. The
// units are length-prefixed when extradata is an avcC/hvcC record (its
// first byte 1, the length size in the low two bits of byte lenAt), else in
// Annex B with start codes.
func firstSlice(pkt, extra []byte, lenAt int, slice func([]byte) (done, closed bool)) bool {
	size := 0
	if len(extra) > lenAt && extra[0] == 1 {
		size = int(extra[lenAt]&3) + 1
	}
	for nal := range nalUnits(pkt, size) {
		if len(nal) == 0 {
			continue
		}
		if done, closed := slice(nal); done {
			return closed
		}
	}
	return false
}

// nalUnits yields the NAL units of b: length-prefixed with size bytes, or
// Annex B when size is 0.
func nalUnits(b []byte, size int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		if size > 0 {
			for len(b) >= size {
				var n uint64
				for _, c := range b[:size] {
					n = n<<8 | uint64(c)
				}
				b = b[size:]
				if n > uint64(len(b)) || !yield(b[:n]) {
					return
				}
				b = b[n:]
			}
			return
		}
		for {
			i := startCode(b)
			if i < 0 {
				return
			}
			b = b[i:]
			j := startCode(b)
			end := len(b)
			if j >= 0 {
				end = j - 3
			}
			if !yield(b[:end]) || j < 0 {
				return
			}
		}
	}
}

// startCode is the index just after the first 00 00 01 in b, or -1.
func startCode(b []byte) int {
	for i := 0; i+3 <= len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			return i + 3
		}
	}
	return -1
}
