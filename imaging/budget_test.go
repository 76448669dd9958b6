package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// pngHeaderOf is a PNG whose IHDR claims w×h pixels of the given bit depth
// and colour type (6: RGBA); nothing follows it.
func pngHeaderOf(w, h uint32, depth, colorType byte) []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = depth, colorType
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

func TestAnImageWhoseDecodedSizeIsOverTheLimitIsRefusedFromItsHeader(t *testing.T) {
	// 10000×10000 16-bit RGBA: exactly the default pixel limit, but 800 MB
	// decoded and 3.2 GB with the model's float planes.
	b := pngHeaderOf(10000, 10000, 16, 6)
	in := Input{Channels: 3, Height: 28, Width: 28, Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Preprocess(b, in, Limits{})
	runtime.ReadMemStats(&after)
	var ie *Error
	if !errors.As(err, &ie) || ie.Reason != "too_many_pixels" || !strings.Contains(ie.Detail, "bytes to decode") {
		t.Fatalf("err %v; want too_many_pixels naming the decoded size", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("refusing it allocated %d bytes", alloc)
	}
	if got := DecodedBytes(image.Config{ColorModel: color.RGBA64Model, Width: 10000, Height: 10000}, "png", 3); got != 32e8 {
		t.Fatalf("DecodedBytes = %d, want 3.2e9", got)
	}
}

func TestABatchOfLargeImagesStaysWithinTheDecodeBudget(t *testing.T) {
	img := image.NewRGBA64(image.Rect(0, 0, 600, 500))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	in := Input{Channels: 3, Height: 28, Width: 28, Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	cfg, _, _ := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
	each := DecodedBytes(cfg, "png", 3)  // 9.6 MB
	budget := NewBudget(2*each + each/2) // two at a time
	lim := Limits{MaxDecodedBytes: budget.Size(), Budget: budget}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 { // eight decoders at once, as a worker with eight batches in flight
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Preprocess(buf.Bytes(), in, lim)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("an image failed instead of waiting: %v", err)
		}
	}
	if budget.Peak() > budget.Size() || budget.Peak() < each {
		t.Fatalf("peak %d bytes held, budget %d, one image %d", budget.Peak(), budget.Size(), each)
	}
	if budget.Peak() > 2*each {
		t.Fatalf("peak %d: more than the two images that fit decoded at once", budget.Peak())
	}
}

func TestDecodeErrorsNameTheFormatOnce(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 20, 20))); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{buf.Bytes()[:buf.Len()/2], append(buf.Bytes()[:40:40], make([]byte, 30)...)} {
		_, _, err := Decode(b, Limits{})
		if err == nil || strings.Contains(err.Error(), "png: png:") {
			t.Fatalf("error %v: want one that names png once", err)
		}
	}
}

func TestAJPEGWithThousandsOfScansIsRefusedQuickly(t *testing.T) {
	b := read(t, "rotated.jpg")
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	end := len(b) - 2 // before EOI
	scan := b[sos:end]
	bomb := append([]byte{}, b[:sos]...)
	for range 2000 {
		bomb = append(bomb, scan...)
	}
	bomb = append(bomb, 0xFF, 0xD9)
	if n := jpegScans(bomb); n != 2000 {
		t.Fatalf("counted %d scans, made 2000", n)
	}
	if n := jpegScans(b); n != 1 {
		t.Fatalf("counted %d scans in a baseline JPEG", n)
	}
	_, _, err := Decode(bomb, Limits{})
	if err == nil || !strings.Contains(err.Error(), "scans") {
		t.Fatalf("%v: want a refusal naming the scans", err)
	}
}

func TestAReservationWaitsForRoomOrItsContext(t *testing.T) {
	b := NewBudget(100)
	first, err := b.Reserve(context.Background(), 70)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Reserve(ctx, 40); !errors.Is(err, context.Canceled) {
		t.Fatalf("a reservation that cannot fit returned %v, want the context's error", err)
	}
	got := make(chan func())
	go func() {
		second, _ := b.Reserve(context.Background(), 40)
		got <- second
	}()
	first()
	first() // a second release gives nothing back twice
	second := <-got
	second()
	if b.held != 0 || b.Peak() != 70 {
		t.Fatalf("%d bytes held after every release, peak %d: want 0 and 70", b.held, b.Peak())
	}
	if !b.sem.TryAcquire(100) {
		t.Fatal("the whole budget is not free after every release")
	}
	var none *Budget
	release, err := none.Reserve(ctx, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	release()
}
