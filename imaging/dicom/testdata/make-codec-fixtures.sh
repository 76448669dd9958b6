#!/usr/bin/env bash
# Regenerates codecs/: small test images for the jpegls and jpeg2000
# packages, encoded by independent tools. NAME.raw is the expected decoded
# frame (samples interleaved, little-endian); NAME.jls comes from dcmtk's
# dcmcjpls (its own JPEG-LS encoder) via a DICOM file made with dump2dcm,
# NAME.j2k and NAME.jp2 from OpenJPEG's opj_compress.
# Needs: dcmtk, libopenjp2-tools, /usr/bin/python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")"
for tool in dump2dcm dcmcjpls dcmdump opj_compress /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "$0: needs $tool (apt-get install dcmtk libopenjp2-tools)" >&2; exit 1; }
done
out=codecs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"

# Images (37×29, deterministic): the expected .raw in $out, and in $work a
# tool input (.pgm/.ppm/.raw/.rawl) and a dump2dcm dump for each.
/usr/bin/python3 - "$work" "$out" <<'PY'
import struct, sys

work, out = sys.argv[1], sys.argv[2]
W, H = 37, 29
seed = 12345


def rnd():
    global seed
    seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
    return seed >> 8


def plane(lo, hi):
    # gradient plus noise, with the extremes present
    v = []
    for y in range(H):
        for x in range(W):
            t = lo + (hi - lo) * (x + y * W) // (W * H - 1)
            t += rnd() % 64 - 32
            v.append(min(hi, max(lo, t)))
    v[0], v[-1] = lo, hi
    return v


def dump(name, spp, ba, bs, signed, photometric, pixfile):
    vr = "OB" if ba == 8 else "OW"
    with open(f"{work}/{name}.dump", "w") as f:
        f.write(
            "(0008,0016) UI =SecondaryCaptureImageStorage\n"
            "(0008,0018) UI 1.2.826.0.1.3680043.10.543.1\n"
            "(0008,0060) CS OT\n"
            f"(0028,0002) US {spp}\n"
            f"(0028,0004) CS {photometric}\n"
            + ("(0028,0006) US 0\n" if spp > 1 else "")
            + f"(0028,0010) US {H}\n(0028,0011) US {W}\n"
            f"(0028,0100) US {ba}\n(0028,0101) US {bs}\n(0028,0102) US {bs-1}\n"
            f"(0028,0103) US {1 if signed else 0}\n"
            f"(7fe0,0010) {vr} ={pixfile}\n"
        )


def le16(vals):
    return b"".join(struct.pack("<H", v & 0xFFFF) for v in vals)


# 8-bit grey
g8 = plane(0, 255)
open(f"{out}/gray8.raw", "wb").write(bytes(g8))
open(f"{work}/gray8.pgm", "wb").write(b"P5\n%d %d\n255\n" % (W, H) + bytes(g8))
open(f"{work}/gray8.bin", "wb").write(bytes(g8))
dump("gray8", 1, 8, 8, False, "MONOCHROME2", f"{work}/gray8.bin")

# 12 bits stored in 16, unsigned
g12 = plane(0, 4095)
open(f"{out}/gray12.raw", "wb").write(le16(g12))
open(f"{work}/gray12.pgm", "wb").write(
    b"P5\n%d %d\n4095\n" % (W, H) + b"".join(struct.pack(">H", v) for v in g12))
open(f"{work}/gray12.bin", "wb").write(le16(g12))
dump("gray12", 1, 16, 12, False, "MONOCHROME2", f"{work}/gray12.bin")

# 16 bits signed (two's complement)
s16 = plane(-32768, 32767)
open(f"{out}/s16.raw", "wb").write(le16(s16))
open(f"{work}/s16.rawl", "wb").write(le16(s16))
dump("s16", 1, 16, 16, True, "MONOCHROME2", f"{work}/s16.rawl")

# 12 bits signed in 16 (JPEG 2000 only): the library sign-extends
s12 = plane(-2048, 2047)
open(f"{out}/s12.raw", "wb").write(le16(s12))
open(f"{work}/s12.rawl", "wb").write(le16(s12))

# 8-bit RGB, interleaved
r, g, b = plane(0, 255), plane(0, 255)[::-1], plane(40, 200)
rgb = bytes(c for px in zip(r, g, b) for c in px)
open(f"{out}/rgb8.raw", "wb").write(rgb)
open(f"{work}/rgb8.ppm", "wb").write(b"P6\n%d %d\n255\n" % (W, H) + rgb)
open(f"{work}/rgb8.bin", "wb").write(rgb)
dump("rgb8", 3, 8, 8, False, "RGB", f"{work}/rgb8.bin")

# 4:2:0 subsampled YCbCr planes (JPEG 2000 refusal case; no .raw)
cw, ch = (W + 1) // 2, (H + 1) // 2
open(f"{work}/sub420.raw", "wb").write(bytes(g8) + bytes(cw * ch * [128]) * 2)
PY

# JPEG-LS through dcmcjpls; the first fragment of the frame is the stream.
jls() { # name source dcmcjpls-options...
  local name=$1 src=$2
  shift 2
  dump2dcm -q "$work/$src.dump" "$work/$src.dcm"
  dcmcjpls -q "$@" "$work/$src.dcm" "$work/$name.dcm"
  mkdir -p "$work/$name.frag"
  dcmdump -q +W "$work/$name.frag" "$work/$name.dcm" >/dev/null
  cp "$work/$name.frag/$name.dcm.1.raw" "$out/$name.jls"
}
jls gray8 gray8
jls gray12 gray12
jls gray12-cooked gray12 +pc
jls s16 s16
jls rgb8-line rgb8 +il
jls rgb8-sample rgb8 +is
jls rgb8-none rgb8 +in
jls gray8-near gray8 +en +md 2

# JPEG 2000 through opj_compress (lossless 5/3 unless stated; 4 resolution
# levels, as a 29-pixel side or a 16-pixel tile allows at most 5).
opj() { # input output options...
  local in=$1 o=$2
  shift 2
  opj_compress -i "$work/$in" -o "$out/$o" -n 4 "$@" >/dev/null 2>&1
}
opj gray8.pgm gray8.j2k
opj gray8.pgm gray8.jp2
opj gray8.pgm gray8-tiles.j2k -t 16,16
opj gray8.pgm gray8-lossy.j2k -I -r 8
opj gray12.pgm gray12.j2k
opj s16.rawl s16.j2k -F 37,29,1,16,s
opj s12.rawl s12.j2k -F 37,29,1,12,s
opj rgb8.ppm rgb8.j2k
opj rgb8.ppm rgb8.jp2
opj sub420.raw sub420.j2k -F 37,29,3,8,u@1x1:2x2:2x2
ls -l "$out"
