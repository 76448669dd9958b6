// The C side of package jpeg12: one decoder per IJG libjpeg build of GDCM
// (ijg8.c, ijg12.c), both compiled from ijg_decode.h.
#ifndef JPEG12_IJG_H
#define JPEG12_IJG_H

#include <stddef.h>

// A frame header: the stream's, or the one the caller wants.
typedef struct {
	unsigned width, height;
	int components, precision;
} ijg_header;

// The result of a call: the header read (as far as it got, even on error)
// and libjpeg's message.
typedef struct {
	ijg_header got;
	char msg[200]; // JMSG_LENGTH_MAX
} ijg_result;

enum {
	IJG_OK = 0,
	IJG_ERROR = 1,    // libjpeg failed, or warned: res->msg
	IJG_MISMATCH = 2, // the header is not *want, or the frame not dstlen bytes
};

// ijgN_decode reads the header of the JPEG stream src[0:len] into res->got.
// With want NULL it stops there (a probe); otherwise it decodes the frame
// into dst (samples interleaved, grey or RGB; 12-bit samples as two bytes,
// little-endian) if the header is *want and the frame dstlen bytes. Nothing
// is kept after the call.
int ijg8_decode(const void *src, size_t len, const ijg_header *want, void *dst, size_t dstlen, ijg_result *res);
int ijg12_decode(const void *src, size_t len, const ijg_header *want, void *dst, size_t dstlen, ijg_result *res);

#endif
