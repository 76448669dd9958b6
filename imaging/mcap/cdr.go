package mcap

import "encoding/binary"

// cdr reads a ROS 2 message in CDR (XCDR1): a 4-byte encapsulation header
// (representation 0x0000 big endian, 0x0001 little endian) and the fields,
// each aligned to its size relative to the end of the header.
type cdr struct {
	b     []byte // after the encapsulation header
	pos   int
	order binary.ByteOrder
	bad   bool
}

func newCDR(msg []byte) (*cdr, error) {
	if len(msg) < 4 || msg[0] != 0 || msg[1] > 1 {
		return nil, malformed("CDR encapsulation header is not plain CDR (representation 0x0000 or 0x0001)") // never the bytes themselves
	}
	c := &cdr{b: msg[4:], order: binary.LittleEndian}
	if msg[1] == 0 {
		c.order = binary.BigEndian
	}
	return c, nil
}

func (c *cdr) u32() uint32 {
	c.pos = (c.pos + 3) &^ 3
	if c.bad || c.pos > len(c.b)-4 {
		c.bad = true
		return 0
	}
	v := c.order.Uint32(c.b[c.pos:])
	c.pos += 4
	return v
}

// bytes reads a sequence<uint8>: a uint32 count and the bytes.
func (c *cdr) bytes() []byte {
	n := c.u32()
	if c.bad || uint64(n) > uint64(len(c.b)-c.pos) {
		c.bad = true
		return nil
	}
	v := c.b[c.pos : c.pos+int(n) : c.pos+int(n)]
	c.pos += int(n)
	return v
}

// str reads a string: its length counts the terminating NUL, dropped here.
func (c *cdr) str() string {
	b := c.bytes()
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

func (c *cdr) stamp() uint64 {
	sec := int32(c.u32())
	nsec := c.u32()
	return nanos(int64(sec), int64(nsec))
}

// decodeROSCDR decodes sensor_msgs/msg/CompressedImage: header {stamp {sec,
// nanosec}, frame_id}, format, data.
func decodeROSCDR(msg []byte) (decoded, error) {
	c, err := newCDR(msg)
	if err != nil {
		return decoded{}, err
	}
	var d decoded
	d.stamp = c.stamp()
	d.frameID = c.str()
	d.format = c.str()
	d.data = c.bytes()
	if c.bad {
		return decoded{}, malformed("CDR sensor_msgs/msg/CompressedImage runs past its %d bytes", len(msg))
	}
	return d, nil
}

// decodeFoxgloveCDR decodes foxglove_msgs/msg/CompressedImage: timestamp
// {sec, nanosec}, frame_id, data, format.
func decodeFoxgloveCDR(msg []byte) (decoded, error) {
	c, err := newCDR(msg)
	if err != nil {
		return decoded{}, err
	}
	var d decoded
	d.stamp = c.stamp()
	d.frameID = c.str()
	d.data = c.bytes()
	d.format = c.str()
	if c.bad {
		return decoded{}, malformed("CDR foxglove_msgs/msg/CompressedImage runs past its %d bytes", len(msg))
	}
	return d, nil
}
