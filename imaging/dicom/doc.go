// Package dicom reads the pixel data of DICOM files as found in PACS
// exports: Part 10 files (preamble and "DICM") and bare datasets, detected
// by content; Implicit and Explicit VR Little Endian, Deflated Explicit VR
// Little Endian and Explicit VR Big Endian; encapsulated RLE Lossless, JPEG
// Baseline (8-bit) and JPEG Lossless (process 14, any predictor, SV1) in
// pure Go, and further syntaxes through registered decoders (JPEG-LS and
// JPEG 2000 in the cgo packages jpegls and jpeg2000). Anything else is
// ErrUnsupportedSyntax naming the UID.
//
// It reads only what classification needs: the image pixel module, the
// rescale and VOI window, palette lookup tables, and the study, series and
// instance UIDs that join results back to the archive. Nothing else (no
// patient data) leaves the parser.
//
// Every length is checked against the bytes left and against Limits before
// anything is allocated; sequences are skipped with a bounded depth; a
// malformed file is an error, never a panic. A deflated dataset is read as
// it inflates, up to its pixel data (Limits.MaxHeaderBytes), and each frame
// is inflated when it is decoded: such a file holds no more memory than
// the same file uncompressed, whatever its deflate stream expands to.
package dicom
