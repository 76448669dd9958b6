package mcap

import (
	"fmt"
	"strings"
)

// decoded is what a message decoder takes from a compressed-image message.
type decoded struct {
	stamp           uint64 // the message's own timestamp (ns)
	frameID, format string
	data            []byte
}

// decodeFunc decodes one message's data; errors wrap ErrMalformedMessage.
type decodeFunc func(msg []byte) (decoded, error)

// The schema names of compressed images, as writers spell them: ROS 2 .msg
// and .idl names, the DDS type name, and foxglove's.
var (
	rosImageNames = []string{
		"sensor_msgs/msg/CompressedImage", "sensor_msgs/CompressedImage",
		"sensor_msgs::msg::CompressedImage", "sensor_msgs::msg::dds_::CompressedImage_",
	}
	foxgloveCDRNames = []string{
		"foxglove_msgs/msg/CompressedImage", "foxglove_msgs/CompressedImage",
		"foxglove_msgs::msg::CompressedImage", "foxglove::CompressedImage",
	}
	foxgloveNames = []string{"foxglove.CompressedImage"}
)

// decoderFor returns the decoder of a schema name and message encoding, or
// nil when the messages are not compressed images this package reads.
func decoderFor(schema, encoding string) decodeFunc {
	in := func(names []string) bool {
		for _, n := range names {
			if schema == n {
				return true
			}
		}
		return false
	}
	switch {
	case encoding == "cdr" && in(rosImageNames):
		return decodeROSCDR
	case encoding == "cdr" && in(foxgloveCDRNames):
		return decodeFoxgloveCDR
	case encoding == "protobuf" && in(foxgloveNames):
		return decodeProtobuf
	case encoding == "json" && (in(foxgloveNames) || in(foxgloveCDRNames)):
		return decodeJSON
	}
	return nil
}

// unsupported explains why a channel's messages are not decoded.
func unsupported(topic, schema, encoding string) error {
	if schema == "" {
		schema = "(none)"
	}
	return fmt.Errorf("topic %q: schema %s in encoding %q: %w", topic, schema, encoding, ErrUnsupportedSchema)
}

// normalFormat maps a CompressedImage format to "jpeg" or "png" when it
// names one of them ("jpeg", "jpg", "rgb8; jpeg compressed bgr8",
// "PNG"); anything else, depth images ("16UC1; compressedDepth png", whose
// payload has a header before the PNG) included, is returned as given.
func normalFormat(f string) string {
	l := strings.ToLower(f)
	switch {
	case strings.Contains(l, "compresseddepth"):
		return f
	case strings.Contains(l, "jpeg"), strings.Contains(l, "jpg"):
		return "jpeg"
	case strings.Contains(l, "png"):
		return "png"
	}
	return f
}

// malformed returns an error wrapping ErrMalformedMessage.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedMessage, fmt.Sprintf(format, args...))
}

// nanos joins seconds and nanoseconds; times before the epoch are zero.
func nanos(sec int64, nsec int64) uint64 {
	t := sec*1_000_000_000 + nsec
	if sec < 0 || t < 0 {
		return 0
	}
	return uint64(t)
}
