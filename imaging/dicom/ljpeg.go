package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// decodeLossless decodes a lossless JPEG frame (ITU-T T.81 process 14:
// SOF3, Huffman coding, predictors 1-7, point transform, restart
// intervals) into interleaved little-endian samples. Components must not be
// subsampled, as in DICOM's JPEG Lossless syntaxes.
func decodeLossless(data []byte, info FrameInfo) ([]byte, error) {
	d := &ljpeg{data: data}
	if err := d.decode(info); err != nil {
		return nil, fmt.Errorf("%w: JPEG Lossless: %w", ErrMalformed, err)
	}
	return d.out, nil
}

type huffman struct {
	maxCode [17]int32 // -1: no code of that length
	valPtr  [17]int32
	minCode [17]int32
	values  []byte
}

type ljpeg struct {
	data      []byte
	pos       int
	precision int
	width     int
	height    int
	comps     []int // component ids, in frame order
	tables    [4]*huffman
	restart   int
	out       []byte
	// entropy-coded bit reader
	bits  uint32
	nbits int
}

var errLJPEG = errors.New("corrupt stream")

func (d *ljpeg) u16(at int) (int, error) {
	if at+2 > len(d.data) {
		return 0, fmt.Errorf("%w: cut short", errLJPEG)
	}
	return int(binary.BigEndian.Uint16(d.data[at:])), nil
}

func (d *ljpeg) decode(info FrameInfo) error {
	if len(d.data) < 4 || d.data[0] != 0xFF || d.data[1] != 0xD8 {
		return fmt.Errorf("%w: no SOI", errLJPEG)
	}
	d.pos = 2
	for {
		for d.pos < len(d.data) && d.data[d.pos] == 0xFF && d.pos+1 < len(d.data) && d.data[d.pos+1] == 0xFF {
			d.pos++ // fill bytes
		}
		if d.pos+4 > len(d.data) || d.data[d.pos] != 0xFF {
			return fmt.Errorf("%w: no scan", errLJPEG)
		}
		marker := d.data[d.pos+1]
		n, err := d.u16(d.pos + 2)
		if err != nil {
			return err
		}
		if n < 2 || d.pos+2+n > len(d.data) {
			return fmt.Errorf("%w: segment length %d", errLJPEG, n)
		}
		seg := d.data[d.pos+4 : d.pos+2+n]
		d.pos += 2 + n
		switch marker {
		case 0xC3:
			if err := d.frame(seg, info); err != nil {
				return err
			}
		case 0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return fmt.Errorf("not a lossless Huffman JPEG (SOF%d)", marker-0xC0)
		case 0xC4:
			if err := d.huffmanTables(seg); err != nil {
				return err
			}
		case 0xDD:
			if len(seg) < 2 {
				return fmt.Errorf("%w: DRI", errLJPEG)
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case 0xDA:
			if d.comps == nil {
				return fmt.Errorf("%w: scan before the frame header", errLJPEG)
			}
			return d.scan(seg, info)
		}
	}
}

func (d *ljpeg) frame(seg []byte, info FrameInfo) error {
	if len(seg) < 6 {
		return fmt.Errorf("%w: SOF3", errLJPEG)
	}
	d.precision, d.height, d.width = int(seg[0]), int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if len(seg) < 6+3*nc {
		return fmt.Errorf("%w: SOF3 components", errLJPEG)
	}
	if d.width != info.Columns || d.height != info.Rows || nc != info.SamplesPerPixel {
		return fmt.Errorf("stream of %dx%d with %d components in a %dx%d image of %d samples", d.width, d.height, nc,
			info.Columns, info.Rows, info.SamplesPerPixel)
	}
	if d.precision < 2 || d.precision > 16 || d.precision > info.BitsAllocated {
		return fmt.Errorf("%d-bit stream in %d bits allocated", d.precision, info.BitsAllocated)
	}
	for c := range nc {
		if seg[6+3*c+1] != 0x11 {
			return fmt.Errorf("subsampled component %d", c)
		}
		d.comps = append(d.comps, int(seg[6+3*c]))
	}
	return nil
}

func (d *ljpeg) huffmanTables(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return fmt.Errorf("%w: DHT", errLJPEG)
		}
		id := int(seg[0] & 0x0F)
		if seg[0]>>4 != 0 || id > 3 {
			return fmt.Errorf("%w: DHT class/id %#x", errLJPEG, seg[0])
		}
		h := &huffman{}
		total := 0
		for l := 1; l <= 16; l++ {
			total += int(seg[l])
		}
		if len(seg) < 17+total || total > 256 {
			return fmt.Errorf("%w: DHT of %d symbols", errLJPEG, total)
		}
		h.values = seg[17 : 17+total]
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			n := int32(seg[l])
			h.valPtr[l], h.minCode[l] = k, code
			if n == 0 {
				h.maxCode[l] = -1
			} else {
				code += n
				k += n
				h.maxCode[l] = code - 1
			}
			code <<= 1
		}
		d.tables[id] = h
		seg = seg[17+total:]
	}
	return nil
}

func (d *ljpeg) scan(seg []byte, info FrameInfo) error {
	if len(seg) < 1 || len(seg) < 1+2*int(seg[0])+3 {
		return fmt.Errorf("%w: SOS", errLJPEG)
	}
	ns := int(seg[0])
	if ns != len(d.comps) {
		return fmt.Errorf("%d of %d components in the scan (one scan for all is supported)", ns, len(d.comps))
	}
	tabs := make([]*huffman, ns)
	for c := range ns {
		id := int(seg[1+2*c+1] >> 4)
		if id > 3 || d.tables[id] == nil {
			return fmt.Errorf("%w: scan uses a missing Huffman table %d", errLJPEG, id)
		}
		tabs[c] = d.tables[id]
	}
	predictor, pt := int(seg[1+2*ns]), int(seg[1+2*ns+2]&0x0F)
	if predictor < 1 || predictor > 7 {
		return fmt.Errorf("predictor %d", predictor)
	}
	w, h, bps := d.width, d.height, info.BitsAllocated/8
	d.out = make([]byte, info.FrameBytes())
	cur := make([]int32, w*ns)
	prev := make([]int32, w*ns)
	init := int32(1) << (d.precision - pt - 1)
	mask := int32(1)<<16 - 1
	sinceRestart := 0
	firstLine := true // the first line of the image or of a restart interval
	for y := range h {
		for x := range w {
			if d.restart > 0 && sinceRestart == d.restart {
				if err := d.restartMarker(); err != nil {
					return err
				}
				sinceRestart, firstLine = 0, true
			}
			if d.restart > 0 && sinceRestart == 0 && x != 0 {
				// a restart interval starting mid-line: its first samples predict from the left as on a first line
				firstLine = true
			}
			for c := range ns {
				diff, err := d.difference(tabs[c])
				if err != nil {
					return err
				}
				var px int32
				i := x*ns + c
				switch {
				case sinceRestart == 0 || y == 0 && x == 0:
					px = init
				case firstLine:
					px = cur[i-ns]
				case x == 0:
					px = prev[i]
				default:
					ra, rb, rc := cur[i-ns], prev[i], prev[i-ns]
					switch predictor {
					case 1:
						px = ra
					case 2:
						px = rb
					case 3:
						px = rc
					case 4:
						px = ra + rb - rc
					case 5:
						px = ra + (rb-rc)>>1
					case 6:
						px = rb + (ra-rc)>>1
					case 7:
						px = (ra + rb) >> 1
					}
				}
				cur[i] = (px + diff) & mask
				v := cur[i] << pt
				o := (y*w + x) * ns * bps
				if bps == 1 {
					d.out[o+c] = byte(v)
				} else {
					binary.LittleEndian.PutUint16(d.out[o+2*c:], uint16(v))
				}
			}
			sinceRestart++
		}
		firstLine = false
		prev, cur = cur, prev
	}
	return nil
}

// restartMarker consumes an RSTn marker, dropping the bits left over.
func (d *ljpeg) restartMarker() error {
	d.bits, d.nbits = 0, 0
	if d.pos+2 > len(d.data) || d.data[d.pos] != 0xFF || d.data[d.pos+1] < 0xD0 || d.data[d.pos+1] > 0xD7 {
		return fmt.Errorf("%w: restart marker missing", errLJPEG)
	}
	d.pos += 2
	return nil
}

// bit returns the next entropy-coded bit (byte stuffing removed).
func (d *ljpeg) bit() (int32, error) {
	if d.nbits == 0 {
		if d.pos >= len(d.data) {
			return 0, fmt.Errorf("%w: the scan ends early", errLJPEG)
		}
		b := d.data[d.pos]
		if b == 0xFF {
			if d.pos+1 >= len(d.data) || d.data[d.pos+1] != 0x00 {
				return 0, fmt.Errorf("%w: a marker inside the scan", errLJPEG)
			}
			d.pos++
		}
		d.pos++
		d.bits, d.nbits = uint32(b), 8
	}
	d.nbits--
	return int32(d.bits>>d.nbits) & 1, nil
}

func (d *ljpeg) difference(h *huffman) (int32, error) {
	code := int32(0)
	for l := 1; l <= 16; l++ {
		b, err := d.bit()
		if err != nil {
			return 0, err
		}
		code = code<<1 | b
		if h.maxCode[l] >= 0 && code <= h.maxCode[l] && code >= h.minCode[l] {
			s := int(h.values[h.valPtr[l]+code-h.minCode[l]])
			switch {
			case s == 0:
				return 0, nil
			case s == 16:
				return 32768, nil
			case s > 16:
				return 0, fmt.Errorf("%w: difference category %d", errLJPEG, s)
			}
			v := int32(0)
			for range s {
				b, err := d.bit()
				if err != nil {
					return 0, err
				}
				v = v<<1 | b
			}
			if v < 1<<(s-1) { // negative: the JPEG "extend" step
				v += -1<<s + 1
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: bad Huffman code", errLJPEG)
}
