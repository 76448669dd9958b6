//go:build cgo

package jpegls

/*
#cgo LDFLAGS: -lcharls
#include <stddef.h>
#include <stdint.h>
#include <charls/charls.h>

// The header of a stream, as CharLS reads it.
typedef struct {
	uint32_t width, height;
	int32_t bits, components, interleave;
	size_t size; // decoded bytes at the default stride
} jls_header;

enum { JLS_CHANGED = -1 };

static charls_jpegls_errc jls_read(charls_jpegls_decoder *d, const void *src, size_t len, jls_header *h) {
	charls_frame_info fi;
	charls_interleave_mode mode;
	charls_jpegls_errc rc = charls_jpegls_decoder_set_source_buffer(d, src, len);
	if (rc == 0) rc = charls_jpegls_decoder_read_header(d);
	if (rc == 0) rc = charls_jpegls_decoder_get_frame_info(d, &fi);
	if (rc == 0) rc = charls_jpegls_decoder_get_interleave_mode(d, &mode);
	if (rc == 0) rc = charls_jpegls_decoder_get_destination_size(d, 0, &h->size);
	if (rc == 0) {
		h->width = fi.width;
		h->height = fi.height;
		h->bits = fi.bits_per_sample;
		h->components = fi.component_count;
		h->interleave = (int32_t)mode;
	}
	return rc;
}

// jls_probe reads the header of src into h.
static int jls_probe(const void *src, size_t len, jls_header *h) {
	charls_jpegls_decoder *d = charls_jpegls_decoder_create();
	if (d == NULL) return CHARLS_JPEGLS_ERRC_NOT_ENOUGH_MEMORY;
	int rc = (int)jls_read(d, src, len, h);
	charls_jpegls_decoder_destroy(d);
	return rc;
}

// jls_decode decodes src into dst (dstlen bytes) if its header is still
// *want and the frame fits dst. Nothing is kept after the call.
static int jls_decode(const void *src, size_t len, const jls_header *want, void *dst, size_t dstlen) {
	jls_header h;
	charls_jpegls_decoder *d = charls_jpegls_decoder_create();
	if (d == NULL) return CHARLS_JPEGLS_ERRC_NOT_ENOUGH_MEMORY;
	int rc = (int)jls_read(d, src, len, &h);
	if (rc == 0 && (h.width != want->width || h.height != want->height || h.bits != want->bits ||
	                h.components != want->components || h.interleave != want->interleave ||
	                h.size != want->size || h.size > dstlen))
		rc = JLS_CHANGED;
	if (rc == 0) rc = (int)charls_jpegls_decoder_decode_to_buffer(d, dst, dstlen, 0);
	charls_jpegls_decoder_destroy(d);
	return rc;
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/didicm/didicm/imaging/dicom"
)

// Available says whether this build decodes JPEG-LS.
const Available = true

// Decode decodes one JPEG-LS frame into native pixel data shaped as info
// says: samples interleaved, little-endian, BitsAllocated bits each.
func Decode(data []byte, info dicom.FrameInfo) ([]byte, error) {
	if err := info.Check("jpegls"); err != nil {
		return nil, err
	}
	data, err := trimToEOI(data)
	if err != nil {
		return nil, err
	}
	src, n := unsafe.Pointer(&data[0]), C.size_t(len(data))
	var h C.jls_header
	if rc := C.jls_probe(src, n, &h); rc != 0 {
		return nil, libError("header", rc)
	}
	w, ht, comps, bits := int(h.width), int(h.height), int(h.components), int(h.bits)
	switch {
	case w != info.Columns || ht != info.Rows:
		return nil, fmt.Errorf("jpegls: stream is %d×%d, dataset says %d×%d", w, ht, info.Columns, info.Rows)
	case comps != info.SamplesPerPixel:
		return nil, fmt.Errorf("jpegls: stream has %d components, dataset says %d samples per pixel", comps, info.SamplesPerPixel)
	case bits < 2 || bits > info.BitsAllocated:
		return nil, fmt.Errorf("jpegls: stream has %d-bit samples, dataset allocates %d bits", bits, info.BitsAllocated)
	}
	libBytes, outBytes := 1, info.BitsAllocated/8
	if bits > 8 {
		libBytes = 2
	}
	size := w * ht * comps * libBytes
	if uint64(h.size) != uint64(size) {
		return nil, fmt.Errorf("jpegls: CharLS wants %d bytes for a %d-byte frame", uint64(h.size), size)
	}
	planar := comps > 1 && h.interleave == C.CHARLS_INTERLEAVE_MODE_NONE
	direct := !planar && libBytes == outBytes
	out := make([]byte, info.FrameBytes())
	dst := out
	if !direct {
		dst = make([]byte, size) // CharLS's layout, repacked below
	}
	if rc := C.jls_decode(src, n, &h, unsafe.Pointer(&dst[0]), C.size_t(len(dst))); rc != 0 {
		return nil, libError("decode", rc)
	}
	if libBytes == 2 && !littleEndian {
		for i := 0; i+1 < len(dst); i += 2 {
			dst[i], dst[i+1] = dst[i+1], dst[i]
		}
	}
	if !direct {
		repack(out, dst, w*ht, comps, libBytes, outBytes, planar)
	}
	return out, nil
}

// repack copies src (planar or interleaved, libBytes per sample) into out
// (interleaved, outBytes per sample, little-endian).
func repack(out, src []byte, pixels, comps, libBytes, outBytes int, planar bool) {
	for c := 0; c < comps; c++ {
		for i := 0; i < pixels; i++ {
			s := i*comps + c
			if planar {
				s = c*pixels + i
			}
			o := (i*comps + c) * outBytes
			if libBytes == 1 {
				out[o] = src[s]
				if outBytes == 2 {
					out[o+1] = 0
				}
			} else {
				out[o], out[o+1] = src[2*s], src[2*s+1]
			}
		}
	}
}

// trimToEOI drops zero padding after the EOI marker (a DICOM fragment has
// even length) and refuses a stream that does not end with EOI: when a scan
// runs into the end of the buffer rather than into a marker, CharLS 2.4.1
// loops until a 32-bit counter wraps (about 10 s) before it reports the
// error, so a truncated stream must not reach it.
func trimToEOI(b []byte) ([]byte, error) {
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	if end < 4 || b[end-2] != 0xFF || b[end-1] != 0xD9 {
		return nil, errors.New("jpegls: stream does not end with an EOI marker (truncated?)")
	}
	return b[:end], nil
}

func libError(step string, rc C.int) error {
	if rc == C.JLS_CHANGED {
		return fmt.Errorf("jpegls: %s: header changed between reads", step)
	}
	return fmt.Errorf("jpegls: %s: %s (CharLS error %d)", step, C.GoString(C.charls_get_error_message(C.charls_jpegls_errc(rc))), int(rc))
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
