package main

import (
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpeg12"
	"github.com/didicm/didicm/imaging/dicom/jpeg2000"
	"github.com/didicm/didicm/imaging/dicom/jpegls"
	"github.com/didicm/didicm/imaging/jpegturbo"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/sampler/cpsimd"
)

// samplerKernel names the sampler's kernel, for the worker's start-up log.
var samplerKernel = "go"

// The cgo codecs, installed where the build has them (cgo; JPEG also
// without -tags noturbo): JPEG files through libjpeg-turbo at the model's
// scale, DICOM JPEG-LS through CharLS, JPEG 2000 through OpenJPEG and
// 12-bit JPEG Extended through GDCM's IJG libjpeg builds, videos through
// FFmpeg's libraries.
// Without them JPEG falls back to image/jpeg and those DICOM syntaxes are
// error records (unsupported_transfer_syntax). Also the sampler's vectorised
// kernel (AVX2 and FMA, checked at start-up; sampler.GoKernel otherwise).
func init() {
	if cpsimd.Available {
		sampler.SetKernel(cpsimd.Kernel)
		samplerKernel = "avx2-fma"
	}
	if ffmpeg.Available {
		imaging.SetVideoDecoder(ffmpeg.Decoder{})
	}
	if jpegturbo.Available {
		imaging.SetJPEGDecoder(jpegturbo.Decode, jpegturbo.Scale)
	}
	if jpegls.Available {
		for _, uid := range jpegls.TransferSyntaxes {
			dicom.RegisterDecoder(uid, jpegls.Decode)
		}
	}
	if jpeg12.Available {
		for _, uid := range jpeg12.TransferSyntaxes {
			dicom.RegisterDecoder(uid, jpeg12.Decode)
		}
	}
	if jpeg2000.Available {
		for _, uid := range jpeg2000.TransferSyntaxes {
			dicom.RegisterDecoder(uid, jpeg2000.Decode)
		}
	}
}
