// MNIST digits from the GoMNIST module's t10k files, encoded as PNG (by hand:
// IHDR, one deflated IDAT, IEND) and JPEG (jpeg-js).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import jpeg from "jpeg-js";

// readMNIST returns {count, rows, cols, pixels(i), label(i)} from dir's
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.
export function readMNIST(dir) {
  const img = zlib.gunzipSync(readFileSync(join(dir, "t10k-images-idx3-ubyte.gz")));
  const lab = zlib.gunzipSync(readFileSync(join(dir, "t10k-labels-idx1-ubyte.gz")));
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) {
    throw new Error("not MNIST idx files");
  }
  const count = img.readUInt32BE(4);
  const rows = img.readUInt32BE(8);
  const cols = img.readUInt32BE(12);
  const size = rows * cols;
  return {
    count,
    rows,
    cols,
    pixels: (i) => img.subarray(16 + i * size, 16 + (i + 1) * size),
    label: (i) => lab[8 + i],
  };
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

// png encodes 8-bit grey pixels (rows*cols) as a PNG file.
export function png(pixels, rows, cols) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(cols, 0);
  ihdr.writeUInt32BE(rows, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  const raw = Buffer.alloc(rows * (cols + 1));
  for (let y = 0; y < rows; y++) {
    raw[y * (cols + 1)] = 0; // filter: none
    Buffer.from(pixels.subarray(y * cols, (y + 1) * cols)).copy(raw, y * (cols + 1) + 1);
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

// jpg encodes 8-bit grey pixels as a baseline JPEG (quality 90).
export function jpg(pixels, rows, cols) {
  const rgba = Buffer.alloc(rows * cols * 4);
  for (let i = 0; i < rows * cols; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = pixels[i];
    rgba[4 * i + 3] = 255;
  }
  return Buffer.from(jpeg.encode({ data: rgba, width: cols, height: rows }, 90).data);
}
