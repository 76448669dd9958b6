//go:build cgo

// The decoder for 8-bit streams: GDCM's IJG libjpeg 6b built with
// BITS_IN_JSAMPLE 8 (libgdcmjpeg8, symbols prefixed gdcmjpeg8_).
#include <stdio.h>
#include <gdcm-3.0/gdcmjpeg/8/jpeglib.h>
#include <gdcm-3.0/gdcmjpeg/8/jerror.h>
#if BITS_IN_JSAMPLE != 8 || JPEG_LIB_VERSION != 62
#error "gdcmjpeg/8 is not the 8-bit IJG libjpeg 6b"
#endif
#define IJG_DECODE ijg8_decode
#include "ijg_decode.h"
