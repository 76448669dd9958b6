package review_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
	"github.com/didicm/didicm/pipeline"
)

// record is a review list entry with only a key and a class.
func timedRecord(key string) pipeline.Record {
	var r pipeline.Record
	r.Key, r.Class, r.ClassIndex, r.EntropyNorm = key, "3", 3, 0.9
	return r
}

// The page shows a video's frame and a log's image message at their
// records' times (the video's frame at the stream's size, the message's
// 28×28 digit), the same each time; a time with no frame is refused.
func TestTheImagesOfVideoFramesAndLogMessagesAreShown(t *testing.T) {
	if !ffmpeg.Available {
		t.Skip("this build reads no video")
	}
	imaging.SetVideoDecoder(ffmpeg.Decoder{})
	t.Cleanup(func() { imaging.SetVideoDecoder(nil) })
	vid, err := os.ReadFile("../build/video-corpus/h264.mp4")
	if err != nil {
		t.Fatalf("%v (make video-corpus)", err)
	}
	log, err := os.ReadFile("../build/mcap-corpus/zstd-indexed.mcap")
	if err != nil {
		t.Fatalf("%v (make mcap-corpus)", err)
	}
	recs := []pipeline.Record{timedRecord("archive/drive.mp4#t=12.000"), timedRecord("archive/run.mcap#topic=/cam/front#t=2.099"),
		timedRecord("archive/drive.mp4#t=99.000")}
	j := jobOn(t, "file://"+t.TempDir(), recs, map[string][]byte{"archive/drive.mp4": vid, "archive/run.mcap": log}, nil)
	h := j.open(t, "alice", "").Handler()
	frame := get(h, imagePath("archive/drive.mp4#t=12.000", ""))
	if frame.Code != 200 {
		t.Fatalf("video frame: %d %s", frame.Code, frame.Body)
	}
	if b := decodePNG(t, frame.Body.Bytes()).Bounds(); b.Dx() != 112 || b.Dy() != 128 {
		t.Fatalf("video frame of %v, want the stream's 112×128", b)
	}
	msg := get(h, imagePath("archive/run.mcap#topic=/cam/front#t=2.099", ""))
	if msg.Code != 200 {
		t.Fatalf("log image: %d %s", msg.Code, msg.Body)
	}
	got := decodePNG(t, msg.Body.Bytes())
	if b := got.Bounds(); b.Dx() != 28 || b.Dy() != 28 {
		t.Fatalf("log image of %v, want the message's 28×28 digit", b)
	}
	if again := get(h, imagePath("archive/drive.mp4#t=12.000", "")); !bytes.Equal(again.Body.Bytes(), frame.Body.Bytes()) {
		t.Fatal("the same frame rendered twice differs")
	}
	if past := get(h, imagePath("archive/drive.mp4#t=99.000", "")); past.Code != 422 {
		t.Fatalf("a time past the video's end: %d %s", past.Code, past.Body)
	}
}
