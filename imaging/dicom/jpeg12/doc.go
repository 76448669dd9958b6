// Package jpeg12 decodes JPEG Extended frames of DICOM files (transfer
// syntax 1.2.840.10008.1.2.4.51, processes 2 and 4): lossy DCT JPEG with
// 12-bit samples, which image/jpeg and libjpeg-turbo cannot read, and the
// 8-bit streams some writers also put under that UID.
//
// It goes through the IJG libjpeg 6b builds that GDCM ships (Debian's
// libgdcm-dev: libgdcmjpeg12 and libgdcmjpeg8, headers under
// <gdcm-3.0/gdcmjpeg/>), one per sample precision; ijg_decode.h is compiled
// once against each (ijg12.c, ijg8.c). libjpeg's errors and warnings come
// back as errors (a longjmp to the decoder, never exit() nor stderr), and
// the stream is read from memory during the call only.
//
// It is a cgo package, fenced like the other C wrappers: package dicom does
// not import it, the commands install Decode for each of TransferSyntaxes
// with dicom.RegisterDecoder. Builds without cgo get a stub whose Decode
// says the codec is not in the build (Available is false).
//
// Decode reads the stream's header first and refuses, before it allocates
// the frame, any disagreement with the dataset: size, components (1, or 3
// decoded to RGB), and precision (12 bits for Bits Allocated 16, 8 for
// Bits Allocated 8, Bits Stored at most the precision). Samples come back as
// libjpeg decodes them, 0 to 4095 or 0 to 255: no masking to Bits Stored
// and no sign extension.
package jpeg12

// TransferSyntaxes are the UIDs Decode serves: JPEG Extended (Process 2 & 4).
var TransferSyntaxes = []string{"1.2.840.10008.1.2.4.51"}

// maxFrameBytes bounds a decoded frame (and so what libjpeg allocates for
// it): a dataset asking for more is refused.
const maxFrameBytes = 1 << 30
