// Message serialisers for the corpus: ROS 2 CDR through
// @foxglove/rosmsg2-serialization (little endian) and @foxglove/cdr (big
// endian), foxglove.CompressedImage as protobuf (hand-built wire format) and
// JSON, and each schema record's name, encoding and data.
import { CdrWriter, EncapsulationKind } from "@foxglove/cdr";
import { parse } from "@foxglove/rosmsg";
import { MessageWriter } from "@foxglove/rosmsg2-serialization";

const SEP = "=".repeat(80);

const TIME_MSG = "int32 sec\nuint32 nanosec\n";
const HEADER_MSG = "builtin_interfaces/Time stamp\nstring frame_id\n";

function ros2msg(top, deps) {
  return [top, ...Object.entries(deps).map(([name, text]) => `${SEP}\nMSG: ${name}\n${text}`)].join("\n");
}

export const rosCompressedImage = ros2msg("std_msgs/Header header\nstring format\nuint8[] data\n", {
  "std_msgs/Header": HEADER_MSG,
  "builtin_interfaces/Time": TIME_MSG,
});
export const rosImage = ros2msg(
  "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n",
  { "std_msgs/Header": HEADER_MSG, "builtin_interfaces/Time": TIME_MSG },
);
export const rosString = "string data\n";
export const foxgloveCdrImage = ros2msg("builtin_interfaces/Time timestamp\nstring frame_id\nuint8[] data\nstring format\n", {
  "builtin_interfaces/Time": TIME_MSG,
});

function writer(text) {
  return new MessageWriter(parse(text, { ros2: true }));
}

const writers = {
  compressed: writer(rosCompressedImage),
  raw: writer(rosImage),
  string: writer(rosString),
  foxglove: writer(foxgloveCdrImage),
};

// stamp splits nanoseconds (bigint) into a ROS time with both spellings of
// the nanosecond field, as the serialiser's time type may name either.
function stamp(ns) {
  const sec = Number(ns / 1000000000n);
  const nanosec = Number(ns % 1000000000n);
  return { sec, nanosec, nsec: nanosec };
}

export function cdrCompressedImage(m) {
  return writers.compressed.writeMessage({
    header: { stamp: stamp(m.stamp), frame_id: m.frameId },
    format: m.format,
    data: m.data,
  });
}

// cdrCompressedImageBE writes the same message in big-endian CDR field by field.
export function cdrCompressedImageBE(m) {
  const w = new CdrWriter({ kind: EncapsulationKind.CDR_BE });
  const t = stamp(m.stamp);
  w.int32(t.sec).uint32(t.nanosec).string(m.frameId).string(m.format);
  w.sequenceLength(m.data.length).uint8Array(m.data, false);
  return w.data;
}

export function cdrFoxgloveImage(m) {
  return writers.foxglove.writeMessage({
    timestamp: stamp(m.stamp),
    frame_id: m.frameId,
    data: m.data,
    format: m.format,
  });
}

export function cdrRawImage(m) {
  return writers.raw.writeMessage({
    header: { stamp: stamp(m.stamp), frame_id: m.frameId },
    height: m.rows,
    width: m.cols,
    encoding: "mono8",
    is_bigendian: 0,
    step: m.cols,
    data: m.pixels,
  });
}

export function cdrString(text) {
  return writers.string.writeMessage({ data: text });
}

// Protobuf wire format, by hand.
function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}
const tag = (field, wire) => varint((field << 3) | wire);
const lenField = (field, bytes) => Buffer.concat([tag(field, 2), varint(bytes.length), Buffer.from(bytes)]);
const intField = (field, n) => Buffer.concat([tag(field, 0), varint(n)]);

// pbCompressedImage: foxglove.CompressedImage {timestamp=1, data=2,
// format=3, frame_id=4}; google.protobuf.Timestamp {seconds=1, nanos=2}.
// Fields are written out of number order (frame_id first), as protobuf allows.
export function pbCompressedImage(m) {
  const t = stamp(m.stamp);
  const ts = Buffer.concat([intField(1, t.sec), intField(2, t.nanosec)]);
  return Buffer.concat([
    lenField(4, Buffer.from(m.frameId)),
    lenField(1, ts),
    lenField(2, m.data),
    lenField(3, Buffer.from(m.format)),
  ]);
}

// pbDescriptorSet is a FileDescriptorSet for foxglove.CompressedImage and
// google.protobuf.Timestamp (the schema data protobuf channels carry).
export function pbDescriptorSet() {
  const field = (name, number, type, typeName) =>
    Buffer.concat([
      lenField(1, Buffer.from(name)),
      intField(3, number),
      intField(4, 1), // LABEL_OPTIONAL
      intField(5, type),
      ...(typeName ? [lenField(6, Buffer.from(typeName))] : []),
      lenField(10, Buffer.from(name.replace(/_(\w)/g, (_, c) => c.toUpperCase()))),
    ]);
  const message = (name, fields) => Buffer.concat([lenField(1, Buffer.from(name)), ...fields.map((f) => lenField(2, f))]);
  const file = (name, pkg, deps, msg) =>
    Buffer.concat([
      lenField(1, Buffer.from(name)),
      lenField(2, Buffer.from(pkg)),
      ...deps.map((d) => lenField(3, Buffer.from(d))),
      lenField(4, msg),
      lenField(12, Buffer.from("proto3")),
    ]);
  const timestamp = file(
    "google/protobuf/timestamp.proto",
    "google.protobuf",
    [],
    message("Timestamp", [field("seconds", 1, 3), field("nanos", 2, 5)]),
  );
  const image = file(
    "foxglove/CompressedImage.proto",
    "foxglove",
    ["google/protobuf/timestamp.proto"],
    message("CompressedImage", [
      field("timestamp", 1, 11, ".google.protobuf.Timestamp"),
      field("frame_id", 4, 9),
      field("data", 2, 12),
      field("format", 3, 9),
    ]),
  );
  return Buffer.concat([lenField(1, timestamp), lenField(1, image)]);
}

export function jsonCompressedImage(m) {
  const t = stamp(m.stamp);
  return Buffer.from(
    JSON.stringify({
      timestamp: { sec: t.sec, nsec: t.nanosec },
      frame_id: m.frameId,
      data: Buffer.from(m.data).toString("base64"),
      format: m.format,
    }),
  );
}

export const jsonSchema = JSON.stringify({
  title: "foxglove.CompressedImage",
  type: "object",
  properties: {
    timestamp: { type: "object", properties: { sec: { type: "integer" }, nsec: { type: "integer" } } },
    frame_id: { type: "string" },
    data: { type: "string", contentEncoding: "base64" },
    format: { type: "string" },
  },
});
