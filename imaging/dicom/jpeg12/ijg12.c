//go:build cgo

// The decoder for 12-bit streams: GDCM's IJG libjpeg 6b built with
// BITS_IN_JSAMPLE 12 (libgdcmjpeg12, symbols prefixed gdcmjpeg12_).
#include <stdio.h>
#include <gdcm-3.0/gdcmjpeg/12/jpeglib.h>
#include <gdcm-3.0/gdcmjpeg/12/jerror.h>
#if BITS_IN_JSAMPLE != 12 || JPEG_LIB_VERSION != 62
#error "gdcmjpeg/12 is not the 12-bit IJG libjpeg 6b"
#endif
#define IJG_DECODE ijg12_decode
#include "ijg_decode.h"
