package imaging

import (
	"cmp"
	"context"
	"fmt"
	"image"
	"time"

	"github.com/didicm/didicm/imaging/mcap"
	"github.com/didicm/didicm/imaging/video"
)

// A record's time is kept to the millisecond: the image it names lies
// within half of one either side.
const halfMillisecond = 500 * time.Microsecond

// VideoFrame decodes the frame of a video at time t (to the millisecond,
// as a record's key gives it), scaled by the decoder to at most side
// pixels on its longest side, for a person to look at (the review page).
func VideoFrame(ctx context.Context, src video.Source, t time.Duration, side int, lim Limits) (image.Image, error) {
	if videoDecoder == nil {
		return nil, videoError(video.ErrUnavailable)
	}
	vlim := video.Limits{MaxFrames: 4, MaxPixels: lim.maxPixels(), MaxDecodedBytes: lim.maxDecodedBytes()}
	info, err := videoDecoder.Probe(ctx, src, vlim)
	if err != nil {
		return nil, videoError(err)
	}
	w, h := fitSide(info.Width, info.Height, side)
	opts := video.Options{From: max(0, t-halfMillisecond), To: t + halfMillisecond, Width: w, Height: h, Limits: vlim}
	var img *image.RGBA
	err = videoDecoder.Sample(ctx, src, opts, func(fr video.Frame) error {
		if img != nil {
			return nil
		}
		if fr.Err != nil {
			return fr.Err
		}
		img = image.NewRGBA(image.Rect(0, 0, fr.Width, fr.Height))
		for p := range fr.Width * fr.Height {
			copy(img.Pix[4*p:4*p+3], fr.Pix[3*p:3*p+3])
			img.Pix[4*p+3] = 255
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, videoError(err)
	case img == nil:
		return nil, fail(ErrCorrupt, "corrupt", "no frame at %s s", fmtSeconds(t))
	}
	return img, nil
}

// LogImage decodes the image message of a log topic at time t from the
// log's first message (to the millisecond, as a record's key gives it).
func LogImage(ctx context.Context, src video.Source, topic string, t time.Duration, lim Limits) (image.Image, error) {
	r, err := mcap.Open(src, src.Size(), mcap.Limits{MaxImageBytes: lim.maxBytes()})
	if err != nil {
		return nil, logError(err)
	}
	from := r.Start() + uint64(max(0, t-halfMillisecond))
	sel := mcap.Selection{Topics: []string{topic}, From: from, To: r.Start() + uint64(t+halfMillisecond)}
	var img image.Image
	var broken error // a message at t that could not be read, if no other was
	err = r.Images(ctx, sel, func(im mcap.Image) error {
		var derr error
		switch {
		case img != nil:
		case im.Err != nil:
			broken = cmp.Or(broken, im.Err)
		default:
			img, _, derr = Decode(im.Data, lim)
		}
		return derr
	})
	if img == nil && err == nil {
		err = cmp.Or(broken, fmt.Errorf("no image of %s at %s s", topic, fmtSeconds(t)))
	}
	if err != nil {
		return nil, logError(err)
	}
	return img, nil
}

// fitSide scales w×h down to at most side on its longest side.
func fitSide(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}

func fmtSeconds(t time.Duration) string { return fmt.Sprintf("%.3f", t.Seconds()) }
