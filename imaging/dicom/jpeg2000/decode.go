//go:build cgo

package jpeg2000

/*
#cgo LDFLAGS: -lopenjp2
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <openjpeg-2.5/openjpeg.h>

// A codestream in memory, read through an opj_stream.
typedef struct {
	const uint8_t *data;
	size_t len, off;
} j2k_source;

static OPJ_SIZE_T j2k_read(void *buf, OPJ_SIZE_T n, void *user) {
	j2k_source *s = user;
	if (s->off >= s->len) return (OPJ_SIZE_T)-1;
	if (n > s->len - s->off) n = s->len - s->off;
	memcpy(buf, s->data + s->off, n);
	s->off += n;
	return n;
}

static OPJ_OFF_T j2k_skip(OPJ_OFF_T n, void *user) {
	j2k_source *s = user;
	if (n < 0) {
		uint64_t back = (uint64_t)0 - (uint64_t)n;
		if (back > s->off) return -1;
		s->off -= (size_t)back;
		return n;
	}
	if ((uint64_t)n > s->len - s->off) {
		s->off = s->len;
		return -1;
	}
	s->off += (size_t)n;
	return n;
}

static OPJ_BOOL j2k_seek(OPJ_OFF_T pos, void *user) {
	j2k_source *s = user;
	if (pos < 0 || (uint64_t)pos > s->len) return OPJ_FALSE;
	s->off = (size_t)pos;
	return OPJ_TRUE;
}

// What the dataset expects, and what went wrong.
typedef struct {
	uint32_t width, height, comps, maxprec, bytes;
	int allow_signed;
	char log[512];  // OpenJPEG's errors and warnings, newlines dropped
	size_t loglen;
	char why[160];  // a shape mismatch
} j2k_job;

static void j2k_note(const char *msg, void *user) {
	j2k_job *j = user;
	if (msg == NULL) return;
	if (j->loglen > 0 && j->loglen + 2 < sizeof j->log) {
		j->log[j->loglen++] = ';';
		j->log[j->loglen++] = ' ';
	}
	for (; *msg != 0 && j->loglen + 1 < sizeof j->log; msg++)
		if (*msg != '\n') j->log[j->loglen++] = *msg;
	j->log[j->loglen] = 0;
}

static void j2k_quiet(const char *msg, void *user) { (void)msg; (void)user; }

static int j2k_check(const opj_image_t *im, j2k_job *j, int decoded) {
	if (im->x1 <= im->x0 || im->y1 <= im->y0 || im->x1 - im->x0 != j->width || im->y1 - im->y0 != j->height) {
		snprintf(j->why, sizeof j->why, "image area (%u,%u)-(%u,%u)", im->x0, im->y0, im->x1, im->y1);
		return 0;
	}
	if (im->numcomps != j->comps || im->comps == NULL) {
		snprintf(j->why, sizeof j->why, "%u components", im->numcomps);
		return 0;
	}
	for (uint32_t i = 0; i < im->numcomps; i++) {
		const opj_image_comp_t *c = &im->comps[i];
		if (c->dx != 1 || c->dy != 1 || c->prec < 1 || c->prec > j->maxprec || (c->sgnd && !j->allow_signed) ||
		    (decoded && (c->data == NULL || c->w != j->width || c->h != j->height || c->factor != 0))) {
			snprintf(j->why, sizeof j->why, "component %u: %ux%u samples, subsampling %ux%u, %u bits, signed %u",
			         i, c->w, c->h, c->dx, c->dy, c->prec, c->sgnd);
			return 0;
		}
	}
	return 1;
}

// j2k_pack interleaves the decoded planes into dst, little-endian.
static void j2k_pack(const opj_image_t *im, uint8_t *dst, uint32_t bytes) {
	size_t n = (size_t)im->comps[0].w * im->comps[0].h, nc = im->numcomps;
	for (size_t c = 0; c < nc; c++) {
		const OPJ_INT32 *src = im->comps[c].data;
		uint8_t *o = dst + c * bytes;
		for (size_t i = 0; i < n; i++, o += nc * bytes) {
			uint32_t v = (uint32_t)src[i];
			o[0] = (uint8_t)v;
			if (bytes == 2) o[1] = (uint8_t)(v >> 8);
		}
	}
}

enum { J2K_OK, J2K_NOMEM, J2K_HEADER, J2K_SHAPE, J2K_DECODE };

// j2k_decode decodes data (a codestream, or a JP2 file if jp2) into dst if
// OpenJPEG's view of it matches *j. Nothing is kept after the call.
static int j2k_decode(const uint8_t *data, size_t len, int jp2, j2k_job *j, uint8_t *dst, size_t dstlen) {
	j2k_source src = {data, len, 0};
	opj_dparameters_t params;
	opj_image_t *im = NULL;
	opj_stream_t *st = NULL;
	int rc = J2K_NOMEM;
	opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
	if (codec == NULL) return rc;
	opj_set_info_handler(codec, j2k_quiet, NULL);
	opj_set_warning_handler(codec, j2k_note, j);
	opj_set_error_handler(codec, j2k_note, j);
	st = opj_stream_create(1 << 16, OPJ_TRUE);
	if (st == NULL) goto done;
	opj_stream_set_user_data(st, &src, NULL);
	opj_stream_set_user_data_length(st, len);
	opj_stream_set_read_function(st, j2k_read);
	opj_stream_set_skip_function(st, j2k_skip);
	opj_stream_set_seek_function(st, j2k_seek);
	rc = J2K_HEADER;
	opj_set_default_decoder_parameters(&params);
	if (!opj_setup_decoder(codec, &params) || !opj_decoder_set_strict_mode(codec, OPJ_TRUE) ||
	    !opj_read_header(st, codec, &im) || im == NULL)
		goto done;
	rc = J2K_SHAPE;
	if (!j2k_check(im, j, 0)) goto done;
	rc = J2K_DECODE;
	if (!opj_decode(codec, st, im) || !opj_end_decompress(codec, st)) goto done;
	rc = J2K_SHAPE;
	if (!j2k_check(im, j, 1)) goto done;
	if ((uint64_t)j->width * j->height * j->comps * j->bytes != dstlen) {
		snprintf(j->why, sizeof j->why, "output buffer of %zu bytes", dstlen);
		goto done;
	}
	j2k_pack(im, dst, j->bytes);
	rc = J2K_OK;
done:
	if (im != NULL) opj_image_destroy(im);
	if (st != NULL) opj_stream_destroy(st);
	opj_destroy_codec(codec);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/didicm/didicm/imaging/dicom"
)

// Available says whether this build decodes JPEG 2000.
const Available = true

// Decode decodes one JPEG 2000 frame into native pixel data shaped as info
// says: samples interleaved, little-endian, BitsAllocated bits each.
func Decode(data []byte, info dicom.FrameInfo) ([]byte, error) {
	if err := info.Check("jpeg2000"); err != nil {
		return nil, err
	}
	cs, jp2, err := codestream(data)
	if err != nil {
		return nil, err
	}
	s, err := parseSIZ(cs)
	if err != nil {
		return nil, err
	}
	if err := s.check(info); err != nil {
		return nil, err
	}
	job := C.j2k_job{
		width:   C.uint32_t(info.Columns),
		height:  C.uint32_t(info.Rows),
		comps:   C.uint32_t(info.SamplesPerPixel),
		maxprec: C.uint32_t(info.BitsAllocated),
		bytes:   C.uint32_t(info.BitsAllocated / 8),
	}
	if info.Signed {
		job.allow_signed = 1
	}
	jp2Flag := C.int(0)
	if jp2 {
		jp2Flag = 1
	}
	out := make([]byte, info.FrameBytes())
	rc := C.j2k_decode((*C.uint8_t)(unsafe.Pointer(&data[0])), C.size_t(len(data)), jp2Flag, &job,
		(*C.uint8_t)(unsafe.Pointer(&out[0])), C.size_t(len(out)))
	switch rc {
	case C.J2K_OK:
		return out, nil
	case C.J2K_NOMEM:
		return nil, fmt.Errorf("jpeg2000: OpenJPEG: out of memory%s", detail(&job))
	case C.J2K_HEADER:
		return nil, fmt.Errorf("jpeg2000: OpenJPEG header%s", detail(&job))
	case C.J2K_SHAPE:
		return nil, fmt.Errorf("jpeg2000: OpenJPEG disagrees with the dataset: %s", C.GoString(&job.why[0]))
	default:
		return nil, fmt.Errorf("jpeg2000: OpenJPEG decode%s", detail(&job))
	}
}

func detail(j *C.j2k_job) string {
	if j.loglen == 0 {
		return ""
	}
	return ": " + C.GoString(&j.log[0])
}
