// Package jpegls decodes JPEG-LS frames of DICOM files (lossless and
// near-lossless) through CharLS (Debian's libcharls-dev, the C API of
// <charls/charls.h>).
//
// It is a cgo package, fenced like the other C wrappers: package dicom does
// not import it, the commands install Decode for each of TransferSyntaxes
// with dicom.RegisterDecoder. Builds without cgo get a stub whose Decode
// says the codec is not in the build (Available is false).
//
// Decode reads the stream's header first and refuses any disagreement with
// the dataset (size, components, a sample precision wider than Bits
// Allocated) before it allocates the frame. A precision above Bits Stored
// is accepted: dcmtk's encoder writes 16 for 12 bits stored in 16. The
// stream must end with EOI, zero padding after it allowed (see trimToEOI).
// Samples come back as the stream holds them: no masking to Bits Stored and
// no sign extension, as in native pixel data.
package jpegls

// TransferSyntaxes are the UIDs Decode serves: JPEG-LS lossless and
// near-lossless.
var TransferSyntaxes = []string{"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
