package video

import "bytes"

// Containers, as Info.Container and Container name them.
const (
	ContainerMP4      = "mp4" // ISO base media (MP4, MOV, 3GP)
	ContainerMatroska = "matroska"
	ContainerAVI      = "avi"
)

// SniffLen is how many leading bytes Sniff and Container look at.
const SniffLen = 12

// Sniff says whether head, the first bytes of a file (SniffLen suffice),
// starts a video container this package reads: MP4/MOV (an "ftyp" box
// whose major brand is not a still-image one, or a QuickTime file opening
// with a "moov", "mdat", "wide" or "free" box), Matroska/WebM (the EBML
// magic 1A 45 DF A3) or AVI ("RIFF", size, "AVI ").
func Sniff(head []byte) bool { return Container(head) != "" }

// Container names the container head starts (ContainerMP4,
// ContainerMatroska, ContainerAVI), or "" as Sniff refuses.
func Container(head []byte) string {
	switch {
	case len(head) >= 4 && bytes.Equal(head[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return ContainerMatroska
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return ContainerAVI
	case len(head) >= 12 && string(head[4:8]) == "ftyp" && !imageBrands[string(head[8:12])]:
		return ContainerMP4
	case len(head) >= 8 && quickTimeBoxes[string(head[4:8])]:
		return ContainerMP4
	}
	return ""
}

// imageBrands are major brands of ISO base media files that hold still
// images (HEIF, AVIF, JPEG 2000, Canon raw) or audio only, not video.
var imageBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true, "hevc": true, "hevx": true,
	"mif1": true, "msf1": true, "avif": true, "avis": true, "jp2 ": true, "jpx ": true,
	"jpm ": true, "crx ": true, "M4A ": true, "M4B ": true,
}

// quickTimeBoxes open QuickTime files written before "ftyp" existed.
var quickTimeBoxes = map[string]bool{"moov": true, "mdat": true, "wide": true, "free": true}
