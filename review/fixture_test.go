package review_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// jobOn writes a finished job "night-1" to the bucket at url: its spec
// (edit may change it), the review list recs (in list order) and the input
// files, by object key. On file:// the inputs are written as plain files,
// so that any byte a file name allows survives.
func jobOn(t testing.TB, url string, recs []pipeline.Record, inputs map[string][]byte, edit func(*jobs.Spec)) *testJob {
	t.Helper()
	ctx := context.Background()
	j := &testJob{url: url, sizes: map[string][2]int{}}
	if dir, ok := strings.CutPrefix(url, "file://"); ok {
		j.dir = dir
	}
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: url, Prefix: "out", ID: "night-1"})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	j.store = store
	spec := jobs.Spec{ID: "night-1", InputURL: url, InputPrefix: "archive", OutputURL: url, OutputPrefix: "out",
		Sampler: "cp", BatchSize: 10}
	spec.Defaults()
	if edit != nil {
		edit(&spec)
	}
	must(t, store.WriteSpec(ctx, spec))
	var list bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		must(t, err)
		list.Write(append(line, '\n'))
	}
	must(t, store.WriteSummary(ctx, pipeline.Summary{JobID: "night-1"}, list.Bytes()))
	writeInputs(t, j, inputs)
	return j
}

func writeInputs(t testing.TB, j *testJob, inputs map[string][]byte) {
	t.Helper()
	if len(inputs) == 0 {
		return
	}
	if j.dir != "" {
		for key, data := range inputs {
			path := filepath.Join(j.dir, filepath.FromSlash(key))
			must(t, os.MkdirAll(filepath.Dir(path), 0o755))
			must(t, os.WriteFile(path, data, 0o644))
		}
		return
	}
	b, err := storage.Open(context.Background(), j.url)
	must(t, err)
	defer b.Close()
	for key, data := range inputs {
		must(t, b.Write(context.Background(), key, data, "application/octet-stream"))
	}
}

// greyPNG is a w×h 8-bit grey PNG of a gradient (with fill 0) or of one
// value.
func greyPNG(w, h int, fill uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := fill
			if fill == 0 {
				v = uint8(255 * x / w)
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	return encodePNG(img)
}

// rgbaPNG is a w×h RGBA PNG of one colour.
func rgbaPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = 200, 100, 50, 255
	}
	return encodePNG(img)
}

// encodePNG encodes img, which cannot fail in memory.
func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// dataset writes DICOM elements in Explicit VR Little Endian.
type dataset struct{ bytes.Buffer }

func (d *dataset) el(group, elem uint16, vr string, value []byte) *dataset {
	binary.Write(d, binary.LittleEndian, group)
	binary.Write(d, binary.LittleEndian, elem)
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT":
		d.WriteString(vr + "\x00\x00")
		binary.Write(d, binary.LittleEndian, uint32(len(value)))
	default:
		d.WriteString(vr)
		binary.Write(d, binary.LittleEndian, uint16(len(value)))
	}
	d.Write(value)
	return d
}

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func text(s string) []byte {
	if len(s)%2 == 1 {
		s += " "
	}
	return []byte(s)
}

// part10 wraps a dataset in a preamble and file meta naming the syntax.
func part10(syntax string, body []byte) []byte {
	var meta dataset
	uid := syntax
	if len(uid)%2 == 1 {
		uid += "\x00"
	}
	meta.el(0x0002, 0x0010, "UI", []byte(uid))
	out := append(make([]byte, 128), "DICM"...)
	return append(append(out, meta.Bytes()...), body...)
}

// greyHeader is the pixel module of frames×rows×cols 8-bit MONOCHROME2.
func greyHeader(frames, rows, cols int) *dataset {
	d := &dataset{}
	d.el(0x0008, 0x0018, "UI", text("1.2.3.4")).el(0x0020, 0x000D, "UI", text("1.2.3")).el(0x0020, 0x000E, "UI", text("1.2.3.9")).
		el(0x0028, 0x0002, "US", u16(1)).el(0x0028, 0x0004, "CS", text("MONOCHROME2")).
		el(0x0028, 0x0008, "IS", text(strconv.Itoa(frames))).
		el(0x0028, 0x0010, "US", u16(uint16(rows))).el(0x0028, 0x0011, "US", u16(uint16(cols))).
		el(0x0028, 0x0100, "US", u16(8)).el(0x0028, 0x0101, "US", u16(8)).el(0x0028, 0x0102, "US", u16(7)).
		el(0x0028, 0x0103, "US", u16(0))
	return d
}

// nativeFrames is a multi-frame 8-bit grey DICOM file (Explicit VR Little
// Endian): frame k (0-based) is bright left of column cols·(k+1)/(frames+1)
// and dark right of it, so later frames are brighter.
func nativeFrames(frames, rows, cols int) []byte {
	d := greyHeader(frames, rows, cols)
	px := make([]byte, 0, frames*rows*cols)
	for k := range frames {
		for range rows {
			for x := range cols {
				v := uint8(10)
				if x < cols*(k+1)/(frames+1) {
					v = 200
				}
				px = append(px, v)
			}
		}
	}
	if len(px)%2 == 1 {
		px = append(px, 0)
	}
	d.el(0x7FE0, 0x0010, "OW", px)
	return part10("1.2.840.10008.1.2.1", d.Bytes())
}

// rleFrames is a multi-frame 8-bit grey RLE Lossless file: each frame of
// rows×cols one value (k mod 256), encoded as PackBits runs of 128.
func rleFrames(frames, rows, cols int) []byte {
	d := greyHeader(frames, rows, cols)
	var px dataset
	item := func(length int) {
		binary.Write(&px, binary.LittleEndian, uint16(0xFFFE))
		binary.Write(&px, binary.LittleEndian, uint16(0xE000))
		binary.Write(&px, binary.LittleEndian, uint32(length))
	}
	item(0) // an empty basic offset table
	for k := range frames {
		var seg bytes.Buffer
		for n := rows * cols; n > 0; n -= 128 {
			run := min(n, 128)
			seg.WriteByte(byte(int8(1 - run)))
			seg.WriteByte(byte(k))
		}
		if seg.Len()%2 == 1 {
			seg.WriteByte(0)
		}
		frag := make([]byte, 64)
		binary.LittleEndian.PutUint32(frag, 1)
		binary.LittleEndian.PutUint32(frag[4:], 64)
		frag = append(frag, seg.Bytes()...)
		item(len(frag))
		px.Write(frag)
	}
	binary.Write(&px, binary.LittleEndian, uint16(0xFFFE))
	binary.Write(&px, binary.LittleEndian, uint16(0xE0DD))
	binary.Write(&px, binary.LittleEndian, uint32(0))
	binary.Write(d, binary.LittleEndian, uint16(0x7FE0))
	binary.Write(d, binary.LittleEndian, uint16(0x0010))
	d.WriteString("OB\x00\x00")
	binary.Write(d, binary.LittleEndian, uint32(0xFFFFFFFF))
	d.Write(px.Bytes())
	return part10("1.2.840.10008.1.2.5", d.Bytes())
}

// decodePNG decodes a served image.
func decodePNG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG (%v): %.200s", err, b)
	}
	return img
}

// meanGrey is an image's mean brightness in [0, 255].
func meanGrey(img image.Image) float64 {
	b := img.Bounds()
	var sum float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sum += float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}
