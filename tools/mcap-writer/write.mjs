// Writes the MCAP test corpus of imaging/mcap with @mcap/core, a writer
// independent of our reader. Usage: node write.mjs MNIST_DIR OUTDIR
//
// Every file holds the same 20 s log: camera topics at different rates in
// ROS 2 CDR (little and big endian), foxglove.CompressedImage in protobuf,
// JSON and CDR, plus topics that are not compressed images (/imu strings,
// /cam/raw sensor_msgs/msg/Image), an attachment and a metadata record.
// Beside each NAME.mcap, NAME.json lists every compressed-image message
// (topic, times, sequence, frame_id, format, label, sha256 of the payload)
// in the order written; see sidecar(). corpus.json lists the files.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { McapWriter } from "@mcap/core";
import zstd from "@foxglove/wasm-zstd";
import lz4 from "lz4js";
import { readMNIST, png, jpg } from "./images.mjs";
import * as msg from "./messages.mjs";

const [mnistDir, outDir] = process.argv.slice(2);
if (!mnistDir || !outDir) {
  console.error("usage: node write.mjs MNIST_DIR OUTDIR");
  process.exit(2);
}

const T0 = 1700000000000000000n; // log times in ns
const SECONDS = 20n;
const CHUNK_SIZE = 4096;

// Topics: period in ms, first-message offset in ms, and how to encode.
const TOPICS = [
  { topic: "/cam/front", periodMs: 100, offsetMs: 0, kind: "cdr", format: "png", frame: "front" },
  { topic: "/cam/rear", periodMs: 250, offsetMs: 7, kind: "cdr", format: "jpeg", frame: "rear_camera" },
  { topic: "/cam/left", periodMs: 500, offsetMs: 13, kind: "cdr-be", format: "png", frame: "left" },
  { topic: "/fox/pb", periodMs: 200, offsetMs: 3, kind: "protobuf", format: "jpeg", frame: "pb" },
  { topic: "/fox/json", periodMs: 333, offsetMs: 21, kind: "json", format: "png", frame: "json_cam" },
  { topic: "/fox/cdr", periodMs: 1000, offsetMs: 29, kind: "fox-cdr", format: "png", frame: "fx" },
  { topic: "/imu", periodMs: 40, offsetMs: 1, kind: "string" },
  { topic: "/cam/raw", periodMs: 1000, offsetMs: 17, kind: "raw", frame: "raw" },
];

const SCHEMAS = {
  cdr: { name: "sensor_msgs/msg/CompressedImage", encoding: "ros2msg", text: msg.rosCompressedImage, msgEnc: "cdr" },
  "cdr-be": { name: "sensor_msgs/msg/CompressedImage", encoding: "ros2msg", text: msg.rosCompressedImage, msgEnc: "cdr" },
  "fox-cdr": { name: "foxglove_msgs/msg/CompressedImage", encoding: "ros2msg", text: msg.foxgloveCdrImage, msgEnc: "cdr" },
  protobuf: { name: "foxglove.CompressedImage", encoding: "protobuf", bytes: msg.pbDescriptorSet(), msgEnc: "protobuf" },
  json: { name: "foxglove.CompressedImage", encoding: "jsonschema", text: msg.jsonSchema, msgEnc: "json" },
  string: { name: "std_msgs/msg/String", encoding: "ros2msg", text: msg.rosString, msgEnc: "cdr" },
  raw: { name: "sensor_msgs/msg/Image", encoding: "ros2msg", text: msg.rosImage, msgEnc: "cdr" },
};

// A small deterministic generator for the jitter of log times (0-4 ms).
let seed = 12345;
function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

function schedule(mnist) {
  const events = [];
  let digit = 0;
  for (const t of TOPICS) {
    let seq = 0;
    for (let ms = t.offsetMs; BigInt(ms) < SECONDS * 1000n; ms += t.periodMs) {
      const logTime = T0 + BigInt(ms) * 1000000n + BigInt(Math.floor(rand() * 4000000));
      const ev = { t, logTime, publishTime: logTime - 1000000n, sequence: ++seq };
      if (t.format || t.kind === "raw") {
        const i = digit++ % mnist.count;
        const pixels = mnist.pixels(i);
        ev.label = mnist.label(i);
        ev.pixels = pixels;
        if (t.format) ev.image = t.format === "png" ? png(pixels, mnist.rows, mnist.cols) : jpg(pixels, mnist.rows, mnist.cols);
      }
      events.push(ev);
    }
  }
  events.sort((a, b) => (a.logTime < b.logTime ? -1 : a.logTime > b.logTime ? 1 : 0));
  return events;
}

function encode(ev, mnist) {
  const m = { stamp: ev.publishTime, frameId: ev.t.frame, format: ev.t.format, data: ev.image };
  switch (ev.t.kind) {
    case "cdr": return msg.cdrCompressedImage(m);
    case "cdr-be": return msg.cdrCompressedImageBE(m);
    case "fox-cdr": return msg.cdrFoxgloveImage(m);
    case "protobuf": return msg.pbCompressedImage(m);
    case "json": return msg.jsonCompressedImage(m);
    case "string": return msg.cdrString(`imu ${ev.sequence}`);
    case "raw": return msg.cdrRawImage({ ...m, rows: mnist.rows, cols: mnist.cols, pixels: ev.pixels });
  }
  throw new Error(`unknown kind ${ev.t.kind}`);
}

const COMPRESS = {
  zstd: (data) => ({ compression: "zstd", compressedData: zstd.compress(data, 3) }),
  lz4: (data) => ({ compression: "lz4", compressedData: lz4.compress(data) }),
  none: undefined,
};

// Memory is a writable that keeps every write and where it ended.
class Memory {
  parts = [];
  size = 0n;
  ends = [];
  position() { return this.size; }
  async write(data) {
    this.parts.push(Buffer.from(data));
    this.size += BigInt(data.byteLength);
    this.ends.push(this.size);
  }
  bytes() { return Buffer.concat(this.parts); }
}

// writeLog writes the events; it returns the file and, per image event, the
// end offset of the record (chunk or message) that first holds it in the file.
async function writeLog(events, mnist, opts) {
  const out = new Memory();
  const w = new McapWriter({ writable: out, chunkSize: CHUNK_SIZE, compressChunk: COMPRESS[opts.compression], ...opts.writer });
  await w.start({ profile: "ros2", library: "didicm mcap-writer" });
  const schemaIds = {};
  for (const [kind, s] of Object.entries(SCHEMAS)) {
    if (kind === "cdr-be") continue;
    schemaIds[kind] = await w.registerSchema({ name: s.name, encoding: s.encoding, data: s.bytes ?? Buffer.from(s.text) });
  }
  schemaIds["cdr-be"] = schemaIds.cdr;
  const channelIds = new Map();
  for (const t of TOPICS) {
    const s = SCHEMAS[t.kind];
    channelIds.set(t.topic, await w.registerChannel({ topic: t.topic, messageEncoding: s.msgEnc, schemaId: schemaIds[t.kind], metadata: new Map() }));
  }
  const pending = [];
  const ends = new Map();
  for (const [n, ev] of events.entries()) {
    const writes = out.ends.length;
    await w.addMessage({ channelId: channelIds.get(ev.t.topic), sequence: ev.sequence, logTime: ev.logTime, publishTime: ev.publishTime, data: encode(ev, mnist) });
    pending.push(ev);
    if (out.ends.length > writes) {
      for (const p of pending) ends.set(p, out.ends[writes]);
      pending.length = 0;
    }
    if (n === Math.floor(events.length / 3)) {
      await w.addAttachment({ name: "calib.txt", logTime: ev.logTime, createTime: ev.logTime, mediaType: "text/plain", data: Buffer.from("fx=1 fy=1") });
      await w.addMetadata({ name: "robot", metadata: new Map([["id", "r2"]]) });
    }
  }
  const writes = out.ends.length;
  await w.end();
  for (const p of pending) ends.set(p, out.ends[writes]);
  return { bytes: out.bytes(), ends, writeEnds: out.ends };
}

function sidecar(name, opts, events, ends, cut) {
  const channels = TOPICS.map((t) => ({
    topic: t.topic,
    schema_name: SCHEMAS[t.kind].name,
    schema_encoding: SCHEMAS[t.kind].encoding,
    message_encoding: SCHEMAS[t.kind].msgEnc,
    image: Boolean(t.format),
  }));
  const messages = events
    .filter((ev) => ev.image && (cut === undefined || ends.get(ev) <= cut))
    .map((ev) => ({
      topic: ev.t.topic,
      log_time: ev.logTime.toString(),
      publish_time: ev.publishTime.toString(),
      sequence: ev.sequence,
      frame_id: ev.t.frame,
      format: ev.t.format,
      label: ev.label,
      size: ev.image.length,
      sha256: createHash("sha256").update(ev.image).digest("hex"),
    }));
  const doc = {
    file: name,
    compression: opts.compression,
    chunked: opts.writer?.useChunks !== false,
    indexed: opts.indexed,
    start_time: events[0].logTime.toString(),
    end_time: events[events.length - 1].logTime.toString(),
    channels,
    messages,
  };
  if (cut !== undefined) doc.truncated_at = cut;
  return JSON.stringify(doc, null, 1);
}

const NO_SUMMARY = {
  useStatistics: false, useSummaryOffsets: false, repeatSchemas: false, repeatChannels: false,
  useAttachmentIndex: false, useMetadataIndex: false, useMessageIndex: false, useChunkIndex: false,
};

const FILES = [
  { name: "zstd-indexed", compression: "zstd", indexed: true },
  { name: "lz4-indexed", compression: "lz4", indexed: true },
  { name: "none-indexed", compression: "none", indexed: true },
  { name: "zstd-noindex", compression: "zstd", indexed: false, writer: NO_SUMMARY },
  { name: "lz4-noindex", compression: "lz4", indexed: false, writer: NO_SUMMARY },
  { name: "unchunked", compression: "none", indexed: false, writer: { useChunks: false } },
  // Chunk indexes, but no schemas or channels in the summary: a reader
  // cannot use the index alone (indexed: false says it must walk).
  { name: "zstd-index-nochannels", compression: "zstd", indexed: false, writer: { repeatSchemas: false, repeatChannels: false } },
];

async function main() {
  await zstd.isLoaded;
  const mnist = readMNIST(mnistDir);
  const events = schedule(mnist);
  mkdirSync(outDir, { recursive: true });
  for (const f of FILES) {
    const { bytes, ends, writeEnds } = await writeLog(events, mnist, f);
    writeFileSync(join(outDir, `${f.name}.mcap`), bytes);
    writeFileSync(join(outDir, `${f.name}.json`), sidecar(`${f.name}.mcap`, f, events, ends));
    if (f.name === "zstd-indexed") {
      // A crash mid-chunk: cut halfway into the chunk that holds the middle message.
      const mid = events.filter((ev) => ev.image)[Math.floor(events.length / 4)];
      const chunkEnd = Number(ends.get(mid));
      const chunkStart = Math.max(...writeEnds.map(Number).filter((e) => e < chunkEnd));
      const cut = Math.floor((chunkStart + chunkEnd) / 2);
      writeFileSync(join(outDir, "truncated.mcap"), bytes.subarray(0, cut));
      writeFileSync(join(outDir, "truncated.json"), sidecar("truncated.mcap", { ...f, indexed: false }, events, ends, cut));
    }
  }
  // example.mcap: the first second of two cameras and /imu, for the
  // package's Example (committed as imaging/mcap/testdata/example.mcap).
  const first = events.filter((ev) => ev.logTime < T0 + 1000000000n && ["/cam/front", "/fox/pb", "/imu"].includes(ev.t.topic));
  const example = await writeLog(first, mnist, FILES[0]);
  writeFileSync(join(outDir, "example.mcap"), example.bytes);
  writeFileSync(join(outDir, "corpus.json"), JSON.stringify([...FILES.map((f) => `${f.name}.mcap`), "truncated.mcap"]));
}

await main();
