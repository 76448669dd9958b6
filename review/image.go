package review

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/internal/redact"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/source"
	"github.com/didicm/didicm/storage"
)

// The longest side of a thumbnail and of a "full" image, in pixels.
const (
	thumbSide = 512
	fullSide  = 4096
)

// renderer turns input files into PNGs under the job's limits: at most
// len(slots) files are read and decoded at once, each within the limits
// (still images also within lim.Budget), so the server's image memory is
// bounded by len(slots) × (max_bytes + max_decoded_bytes) whatever the
// requests.
type renderer struct {
	in    source.Source
	lim   imaging.Limits
	slots chan struct{}
}

// errLocator marks a key whose locator the page cannot show.
var errLocator = errors.New("the review page cannot show this part of a file")

// image serves an item's image as PNG: a thumbnail, or with size=full the
// whole image (up to fullSide). Only keys of the review list are read.
func (s *Server) image(w http.ResponseWriter, r *http.Request) {
	i, ok := s.byKey[r.URL.Query().Get("key")]
	if !ok {
		http.Error(w, "no such image in the review list", http.StatusNotFound)
		return
	}
	side := thumbSide
	if r.URL.Query().Get("size") == "full" {
		side = fullSide
	}
	data, err := s.render.png(r.Context(), locate(&s.items[i]), side)
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, redact.Error(err), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=600")
	_, _ = w.Write(data)
}

// noImage says why the page cannot show an item's image without asking
// for it ("" when it may): a part of a video or log with no time.
func noImage(it *item) string {
	if k := locate(it); (k.Topic != "" || k.Spanned) && !k.Timed {
		return errLocator.Error()
	}
	return ""
}

// locate parses an item's key (recordkey). A key that does not parse comes
// from a job written before record keys had one form: it names its object.
func locate(it *item) recordkey.Key {
	k, err := recordkey.Parse(it.key)
	if err != nil {
		return recordkey.Of(it.key)
	}
	return k
}

// png reads and renders k's image at most side pixels on its longest side.
func (rd *renderer) png(ctx context.Context, k recordkey.Key, side int) ([]byte, error) {
	if (k.Topic != "" || k.Spanned) && !k.Timed {
		return nil, errLocator
	}
	select {
	case rd.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-rd.slots }()
	var img image.Image
	var err error
	if k.Timed {
		img, err = rd.timed(ctx, k, side)
	} else {
		var data []byte
		if data, err = rd.in.Read(ctx, k.Object, rd.lim.MaxBytes); err == nil {
			img, err = rd.decode(data, k.Frame, side)
		}
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// timed decodes a video's frame or a log's image message at k's time,
// reading the file in pieces from a bucket (whole, within the job's read
// limit, from other sources).
func (rd *renderer) timed(ctx context.Context, k recordkey.Key, side int) (image.Image, error) {
	var src video.Source
	if b, ok := rd.in.(*storage.Bucket); ok {
		r, err := b.OpenRange(ctx, k.Object)
		if err != nil {
			return nil, err
		}
		src = r
	} else {
		data, err := rd.in.Read(ctx, k.Object, rd.lim.MaxBytes)
		if err != nil {
			return nil, err
		}
		src = bytes.NewReader(data)
	}
	if k.Topic != "" {
		img, err := imaging.LogImage(ctx, src, k.Topic, k.Time, rd.lim)
		if err != nil {
			return nil, err
		}
		return shrinkImage(img, side), nil
	}
	return imaging.VideoFrame(ctx, src, k.Time, side, rd.lim)
}

// decode decodes frame (1-based; 0: the whole file or its only frame) and
// scales it down to side.
func (rd *renderer) decode(data []byte, frame, side int) (image.Image, error) {
	if frame > 0 || isDICOM(data) {
		return dicomFrame(data, frame, side, rd.lim)
	}
	img, _, err := imaging.Decode(data, rd.lim)
	if err != nil {
		return nil, err
	}
	return shrinkImage(img, side), nil
}

// isDICOM sniffs a Part 10 preamble, or a bare dataset that no image
// decoder claims (as imaging does).
func isDICOM(b []byte) bool {
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		return true
	}
	if !dicom.IsDICOM(b) {
		return false
	}
	_, _, err := image.DecodeConfig(bytes.NewReader(b))
	return err != nil
}

// dicomFrame decodes only frame (1-based; 0 is the first) of a DICOM file,
// checked against lim as the worker checks it, and shows it with the
// file's own window (min-max when it has none), MONOCHROME1 inverted.
func dicomFrame(data []byte, frame, side int, lim imaging.Limits) (image.Image, error) {
	hdr, err := dicom.Parse(data, dicom.Limits{MaxPixelBytes: lim.MaxDecodedBytes})
	if err != nil {
		return nil, fmt.Errorf("dicom: %w", err)
	}
	i := max(frame, 1) - 1
	if i >= hdr.Frames {
		return nil, fmt.Errorf("dicom: frame %d of %d", frame, hdr.Frames)
	}
	ch := int64(1)
	if hdr.SamplesPerPixel == 3 || hdr.Palette != nil {
		ch = 3
	}
	px := int64(hdr.Rows) * int64(hdr.Columns)
	need := px * (int64(hdr.SamplesPerPixel)*(int64(max(1, hdr.BitsAllocated/8))+8) + 8*ch)
	if need > lim.MaxDecodedBytes {
		return nil, fmt.Errorf("dicom: a frame of %dx%d×%d needs about %d bytes to decode, limit %d (too_many_pixels)",
			hdr.Columns, hdr.Rows, hdr.SamplesPerPixel, need, lim.MaxDecodedBytes)
	}
	f, err := hdr.Frame(i)
	if err != nil {
		return nil, fmt.Errorf("dicom: %w", err)
	}
	return shrinkPlanes(windowed(f, hdr), f.Width, f.Height, side), nil
}
