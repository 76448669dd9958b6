// Package jpeg2000 decodes JPEG 2000 frames of DICOM files (lossless and
// lossy) through OpenJPEG (Debian's libopenjp2-7-dev), from memory. Both a
// bare codestream (as DICOM specifies) and a JP2 file are accepted, told
// apart by their first bytes.
//
// It is a cgo package, fenced like the other C wrappers: package dicom does
// not import it, the commands install Decode for each of TransferSyntaxes
// with dicom.RegisterDecoder. Builds without cgo get a stub whose Decode
// says the codec is not in the build (Available is false).
//
// Decode parses the SIZ marker itself and refuses any disagreement with the
// dataset (size, components, subsampling, a precision wider than Bits
// Allocated, signed samples for an unsigned dataset) and absurd tilings
// before OpenJPEG reads the header; OpenJPEG's own view is checked again
// before and after decoding. Samples come back as OpenJPEG gives them
// (signed ones sign-extended to Bits Allocated), after its inverse
// multi-component transform: a YBR_RCT or YBR_ICT frame comes back as RGB.
// JP2 palettes (pclr) are refused.
package jpeg2000

// TransferSyntaxes are the UIDs Decode serves: JPEG 2000 lossless only and
// JPEG 2000 (lossless or lossy).
var TransferSyntaxes = []string{"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}
