// The body of ijg8.c and ijg12.c, compiled once per IJG build: the includer
// has included that build's jpeglib.h and jerror.h and defined IJG_DECODE,
// the name of the entry point declared in ijg.h.
#include <setjmp.h>
#include <string.h>

#include "ijg.h"

// The error manager: libjpeg's errors, and its warnings (corrupt or
// truncated data), jump back to guarded with the message; nothing is
// printed and nothing exits.
typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	char *msg; // JMSG_LENGTH_MAX bytes
} err_mgr;

static void err_exit(j_common_ptr c) {
	err_mgr *e = (err_mgr *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jump, 1);
}

static void err_emit(j_common_ptr c, int level) {
	if (level < 0) // a warning; levels 0 and up are trace messages
		err_exit(c);
}

static void err_output(j_common_ptr c) {
	err_mgr *e = (err_mgr *)c->err;
	(*c->err->format_message)(c, e->msg);
}

// The source manager: the whole stream is in memory (this libjpeg has no
// jpeg_mem_src). Running out of data is a warning, so an error.
static void src_init(j_decompress_ptr c) { (void)c; }

static boolean src_fill(j_decompress_ptr c) {
	static const JOCTET eoi[2] = {0xFF, JPEG_EOI};
	WARNMS(c, JWRN_JPEG_EOF);
	c->src->next_input_byte = eoi; // not reached: err_emit jumps
	c->src->bytes_in_buffer = 2;
	return TRUE;
}

static void src_skip(j_decompress_ptr c, long n) {
	struct jpeg_source_mgr *s = c->src;
	while (n > 0 && (size_t)n > s->bytes_in_buffer) {
		n -= (long)s->bytes_in_buffer;
		(void)(*s->fill_input_buffer)(c);
	}
	if (n > 0) {
		s->next_input_byte += n;
		s->bytes_in_buffer -= (size_t)n;
	}
}

static void src_term(j_decompress_ptr c) { (void)c; }

static int same_header(const ijg_header *a, const ijg_header *b) {
	return a->width == b->width && a->height == b->height && a->components == b->components &&
	       a->precision == b->precision;
}

// run does the work; libjpeg's errors leave it by longjmp.
static int run(j_decompress_ptr c, const ijg_header *want, unsigned char *dst, size_t dstlen, ijg_result *res) {
	const size_t bytes = BITS_IN_JSAMPLE > 8 ? 2 : 1;
	JSAMPARRAY row;
	size_t stride;

	(void)jpeg_read_header(c, TRUE);
	res->got.width = c->image_width;
	res->got.height = c->image_height;
	res->got.components = c->num_components;
	res->got.precision = c->data_precision;
	if (want == NULL)
		return IJG_OK;
	if (!same_header(&res->got, want) || (want->components != 1 && want->components != 3))
		return IJG_MISMATCH;
	stride = (size_t)want->width * (size_t)want->components;
	if (stride * bytes * want->height != dstlen)
		return IJG_MISMATCH;

	c->out_color_space = want->components == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_start_decompress(c);
	if (c->output_width != want->width || c->output_height != want->height ||
	    c->output_components != want->components)
		return IJG_MISMATCH;
	row = (*c->mem->alloc_sarray)((j_common_ptr)c, JPOOL_IMAGE, (JDIMENSION)stride, 1);
	while (c->output_scanline < c->output_height) {
		unsigned char *out = dst + (size_t)c->output_scanline * stride * bytes;
		if (jpeg_read_scanlines(c, row, 1) != 1)
			ERREXIT(c, JERR_INPUT_EMPTY); // no progress: cannot happen with this source
#if BITS_IN_JSAMPLE == 8
		memcpy(out, row[0], stride);
#else
		for (size_t i = 0; i < stride; i++) {
			unsigned v = (unsigned)GETJSAMPLE(row[0][i]);
			out[2 * i] = (unsigned char)(v & 0xFF);
			out[2 * i + 1] = (unsigned char)(v >> 8);
		}
#endif
	}
	(void)jpeg_finish_decompress(c);
	return IJG_OK;
}

// guarded is where libjpeg's errors land. Everything it changes after
// setjmp lives in IJG_DECODE's frame.
static int guarded(j_decompress_ptr c, err_mgr *e, struct jpeg_source_mgr *sm, const ijg_header *want,
                   unsigned char *dst, size_t dstlen, ijg_result *res) {
	if (setjmp(e->jump))
		return IJG_ERROR;
	jpeg_create_decompress(c); // zeroes *c but for c->err
	c->src = sm;
	return run(c, want, dst, dstlen, res);
}

int IJG_DECODE(const void *src, size_t len, const ijg_header *want, void *dst, size_t dstlen, ijg_result *res) {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_source_mgr sm;
	err_mgr e;
	int rc;

	memset(&cinfo, 0, sizeof cinfo);
	memset(&sm, 0, sizeof sm);
	memset(res, 0, sizeof *res);
	cinfo.err = jpeg_std_error(&e.pub);
	e.pub.error_exit = err_exit;
	e.pub.emit_message = err_emit;
	e.pub.output_message = err_output;
	e.msg = res->msg;
	sm.init_source = src_init;
	sm.fill_input_buffer = src_fill;
	sm.skip_input_data = src_skip;
	sm.resync_to_restart = jpeg_resync_to_restart;
	sm.term_source = src_term;
	sm.next_input_byte = (const JOCTET *)src;
	sm.bytes_in_buffer = len;

	rc = guarded(&cinfo, &e, &sm, want, (unsigned char *)dst, dstlen, res);
	if (rc == IJG_ERROR) { // the header as far as libjpeg read it
		res->got.width = cinfo.image_width;
		res->got.height = cinfo.image_height;
		res->got.components = cinfo.num_components;
		res->got.precision = cinfo.data_precision;
	}
	jpeg_destroy_decompress(&cinfo);
	return rc;
}
