package mcap

import (
	"encoding/base64"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protowire"
)

// decodeProtobuf decodes foxglove.CompressedImage in the protobuf wire
// format: timestamp = 1 (google.protobuf.Timestamp: seconds = 1, nanos =
// 2), data = 2, format = 3, frame_id = 4. Other fields are skipped; a
// repeated field keeps its last value, as protobuf parsers do.
func decodeProtobuf(msg []byte) (decoded, error) {
	var d decoded
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return decoded{}, malformed("protobuf tag: %v", protowire.ParseError(n))
		}
		msg = msg[n:]
		if typ != protowire.BytesType || num < 1 || num > 4 {
			if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
				return decoded{}, malformed("protobuf field %d: %v", num, protowire.ParseError(n))
			}
			msg = msg[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(msg)
		if n < 0 {
			return decoded{}, malformed("protobuf field %d: %v", num, protowire.ParseError(n))
		}
		msg = msg[n:]
		switch num {
		case 1:
			t, err := protoTimestamp(v)
			if err != nil {
				return decoded{}, err
			}
			d.stamp = t
		case 2:
			d.data = v
		case 3:
			d.format = string(v)
		case 4:
			d.frameID = string(v)
		}
	}
	return d, nil
}

// protoTimestamp decodes google.protobuf.Timestamp.
func protoTimestamp(b []byte) (uint64, error) {
	var sec, nsec int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, malformed("protobuf timestamp: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if typ == protowire.VarintType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, malformed("protobuf timestamp: %v", protowire.ParseError(n))
			}
			b = b[n:]
			if num == 1 {
				sec = int64(v)
			} else {
				nsec = int64(int32(v))
			}
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return 0, malformed("protobuf timestamp: %v", protowire.ParseError(n))
		}
		b = b[n:]
	}
	return nanos(sec, nsec), nil
}

// jsonImage is foxglove.CompressedImage in JSON: data in base64, the
// timestamp as {sec, nsec} (or protobuf JSON's {seconds, nanos}).
type jsonImage struct {
	Timestamp struct {
		Sec     int64 `json:"sec"`
		Nsec    int64 `json:"nsec"`
		Seconds int64 `json:"seconds"`
		Nanos   int64 `json:"nanos"`
	} `json:"timestamp"`
	FrameID string `json:"frame_id"`
	Data    string `json:"data"`
	Format  string `json:"format"`
}

func decodeJSON(msg []byte) (decoded, error) {
	var j jsonImage
	if err := json.Unmarshal(msg, &j); err != nil {
		return decoded{}, malformed("JSON foxglove.CompressedImage: %v", err)
	}
	data, err := base64.StdEncoding.DecodeString(j.Data)
	if err != nil {
		return decoded{}, malformed("JSON foxglove.CompressedImage data: %v", err)
	}
	t := j.Timestamp
	return decoded{
		stamp: nanos(t.Sec+t.Seconds, t.Nsec+t.Nanos), frameID: j.FrameID,
		format: j.Format, data: data,
	}, nil
}
