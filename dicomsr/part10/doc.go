// Package part10 writes and reads DICOM Part 10 files (PS3.10) for the
// structured reports that package dicomsr makes: it writes a dataset in
// Explicit VR Little Endian with its file meta information, and reads the
// top-level text attributes of a source instance's header as a stream,
// stopping before its pixel data.
//
// Writing. Encode sorts each dataset by tag, refuses duplicates, unknown
// VRs and values that break their VR's rules (length in characters, the
// characters allowed, UID form), pads every value to an even length (UI
// and OB with NUL, text with a space) and writes sequences and their items
// with defined lengths: every length is known before a byte is written, so
// a reader that skips a sequence jumps over it, and no delimitation items
// are needed. The file meta holds its group length, the version (00 01),
// the Media Storage SOP Class and Instance UIDs, the transfer syntax
// (Explicit VR Little Endian) and the Implementation Class UID and
// Version Name that the caller gives (dicomsr's are ours).
//
// Reading. ReadHeader reads a Part 10 file or a bare dataset in Implicit or
// Explicit VR Little Endian, Explicit VR Big Endian, Deflated Explicit VR
// Little Endian or any encapsulated syntax (whose header is Explicit VR
// Little Endian), keeps the top-level elements it is asked for and skips
// the rest without holding them (sequences included, to a bounded depth),
// and stops at the first tag past the last one asked for, or at the pixel
// data: a header read costs the bytes up to the attributes wanted, not the
// file. Values are kept as stored (a big-endian file's text is the same
// bytes; binary values are not swapped), so only text attributes should be
// asked for. Every length is checked against a limit before it is read.
package part10
