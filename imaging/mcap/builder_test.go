package mcap_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// mcapFile builds MCAP files by hand for the crafted cases: records as the
// specification lays them out, with whatever lengths a case needs to lie
// about.
type mcapFile struct{ bytes.Buffer }

var mcapMagic = []byte{0x89, 'M', 'C', 'A', 'P', 0x30, '\r', '\n'}

func newMCAP() *mcapFile {
	f := &mcapFile{}
	f.Write(mcapMagic)
	f.record(0x01, cat(str("ros2"), str("crafted")))
	return f
}

func (f *mcapFile) record(op byte, content []byte) *mcapFile {
	f.WriteByte(op)
	f.Write(u64(uint64(len(content))))
	f.Write(content)
	return f
}

// imageChannel adds schema 1 (sensor_msgs/msg/CompressedImage) and channel
// id on topic, CDR.
func (f *mcapFile) imageChannel(id uint16, topic string) *mcapFile {
	f.record(0x03, schemaRecord(1, "sensor_msgs/msg/CompressedImage", "ros2msg"))
	return f.record(0x04, channelRecord(id, 1, topic, "cdr"))
}

// end adds Data End, a footer without summary, and the magic.
func (f *mcapFile) end() []byte {
	f.record(0x0F, u32(0))
	f.record(0x02, cat(u64(0), u64(0), u32(0)))
	f.Write(mcapMagic)
	return f.Bytes()
}

func schemaRecord(id uint16, name, encoding string) []byte {
	return cat(u16(id), str(name), str(encoding), u32(0))
}

func channelRecord(id, schema uint16, topic, encoding string) []byte {
	return cat(u16(id), u16(schema), str(topic), str(encoding), u32(0))
}

func messageRecord(channel uint16, seq uint32, t uint64, data []byte) []byte {
	return cat(u16(channel), u32(seq), u64(t), u64(t), data)
}

// chunkRecord lays out a chunk; usize and crc are what it claims.
func chunkRecord(start, end, usize uint64, crc uint32, compression string, records []byte) []byte {
	return cat(u64(start), u64(end), u64(usize), u32(crc), str(compression), u64(uint64(len(records))), records)
}

// plainChunk is an uncompressed chunk of records with true sizes and CRC.
func plainChunk(start, end uint64, records []byte) []byte {
	return chunkRecord(start, end, uint64(len(records)), crc32.ChecksumIEEE(records), "", records)
}

func rec(op byte, content []byte) []byte {
	return cat([]byte{op}, u64(uint64(len(content))), content)
}

// cdrImage is a little-endian CDR sensor_msgs/msg/CompressedImage.
func cdrImage(frame, format string, data []byte) []byte {
	b := []byte{0, 1, 0, 0}
	b = append(b, u32(1)...)
	b = append(b, u32(2)...)
	for _, s := range []string{frame, format} {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, u32(uint32(len(s)+1))...)
		b = append(b, s...)
		b = append(b, 0)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, u32(uint32(len(data)))...)
	return append(b, data...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func u16(v uint16) []byte        { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte        { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte        { return binary.LittleEndian.AppendUint64(nil, v) }
func str(s string) []byte        { return append(u32(uint32(len(s))), s...) }
