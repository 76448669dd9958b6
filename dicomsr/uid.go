package dicomsr

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
)

// DeriveUID is a UID of the form 2.25.N (PS3.5 B.2: a UUID as one
// integer, the root that needs no registration) where N is a UUID made
// from parts alone: the first 128 bits of the SHA-256 of the parts (each
// length-prefixed, so ("ab","c") and ("a","bc") differ), with RFC 9562's
// version 8 and variant bits set. The same parts always give the same UID,
// so a report made again for the same job and study has the same UIDs and
// replaces its earlier copy instead of adding one; different parts collide
// with the odds of a random UUID (2^-122 per pair). At most 44 characters.
func DeriveUID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		_ = binary.Write(h, binary.BigEndian, uint64(len(p)))
		h.Write([]byte(p))
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom (here name-based, SHA-256)
	b[8] = b[8]&0x3f | 0x80 // variant 10: RFC 9562
	return "2.25." + new(big.Int).SetBytes(b).String()
}

// ImplementationClassUID identifies didicm's DICOM writer in the file meta
// information of every report: DeriveUID("didicm", "implementation class").
var ImplementationClassUID = DeriveUID("didicm", "implementation class")

// ImplementationVersionName names the writer and its report template's
// version (at most 16 characters).
const ImplementationVersionName = "DIDICM_SR_1"
