//go:build cgo && !novideo

package ffmpeg

import "testing"

func TestClosedKeysFindTheFirstPicturesType(t *testing.T) {
	avcC := []byte{1, 0x64, 0, 0x1F, 0xFF} // length size 4
	hvcC := make([]byte, 23)
	hvcC[0], hvcC[21] = 1, 3
	tests := []struct {
		name, codec string
		pkt, extra  []byte
		closed      bool
	}{
		{"an H.264 IDR after an SEI, length-prefixed", "h264",
			[]byte{0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 2, 0x65, 0x88}, avcC, true},
		{"an H.264 non-IDR I slice (a recovery point)", "h264",
			[]byte{0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 2, 0x41, 0x9A}, avcC, false},
		{"an H.264 IDR in Annex B after SPS and PPS", "h264",
			[]byte{0, 0, 0, 1, 0x67, 0x64, 0, 0, 1, 0x68, 0xEE, 0, 0, 1, 0x65, 0x88}, nil, true},
		{"a truncated length prefix", "h264", []byte{0, 0, 0, 9, 0x65}, avcC, false},
		{"an HEVC IDR_W_RADL", "hevc", []byte{0, 0, 0, 3, 19 << 1, 1, 0xAF}, hvcC, true},
		{"an HEVC CRA (leading pictures may refer back)", "hevc", []byte{0, 0, 0, 3, 21 << 1, 1, 0xAF}, hvcC, false},
		{"an HEVC VPS then IDR_N_LP in Annex B", "hevc", []byte{0, 0, 1, 32 << 1, 1, 0, 0, 1, 20 << 1, 1, 0xAF}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := closedKeys[tt.codec](tt.pkt, tt.extra); got != tt.closed {
				t.Fatalf("closed = %v, want %v", got, tt.closed)
			}
		})
	}
}
