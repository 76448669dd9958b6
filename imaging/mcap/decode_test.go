package mcap

import (
	"errors"
	"testing"
)

func TestNormalFormat(t *testing.T) {
	for in, want := range map[string]string{
		"jpeg":                       "jpeg",
		"JPG":                        "jpeg",
		"rgb8; jpeg compressed bgr8": "jpeg",
		"png":                        "png",
		"bgr8; png compressed bgr8":  "png",
		"16UC1; compressedDepth png": "16UC1; compressedDepth png",
		"webp":                       "webp",
		"":                           "",
	} {
		if got := normalFormat(in); got != want {
			t.Errorf("normalFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

// Messages cut short or with lengths past their end are malformed, never
// a panic; the payload of a well-formed one aliases the message.
func TestDecodersRefuseShortMessages(t *testing.T) {
	ros := []byte{0, 1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 'f', 0, 0, 0, 4, 0, 0, 0, 'p', 'n', 'g', 0, 3, 0, 0, 0, 'a', 'b', 'c'}
	d, err := decodeROSCDR(ros)
	if err != nil || d.frameID != "f" || d.format != "png" || string(d.data) != "abc" || d.stamp != 1_000_000_002 {
		t.Fatalf("decodeROSCDR = %+v, %v", d, err)
	}
	for n := range len(ros) - 1 {
		if _, err := decodeROSCDR(ros[:n]); !errors.Is(err, ErrMalformedMessage) {
			t.Fatalf("decodeROSCDR of the first %d bytes: %v, want ErrMalformedMessage", n, err)
		}
	}
	for _, msg := range [][]byte{{0x12}, {0x0a, 0x05, 1}, {0x0a, 0x02, 0x08}, {0x7f}} {
		if _, err := decodeProtobuf(msg); !errors.Is(err, ErrMalformedMessage) {
			t.Errorf("decodeProtobuf(% x): %v, want ErrMalformedMessage", msg, err)
		}
	}
	for _, msg := range []string{`{"data": 3}`, `{"data": "***"}`, `{`} {
		if _, err := decodeJSON([]byte(msg)); !errors.Is(err, ErrMalformedMessage) {
			t.Errorf("decodeJSON(%s): %v, want ErrMalformedMessage", msg, err)
		}
	}
}
