package mcap_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/didicm/didicm/imaging/mcap"
)

// BenchmarkImages opens a corpus file and reads every compressed image
// (500 MNIST PNG and JPEG payloads in 4 KiB chunks): MB/s counts the
// payload bytes delivered, msgs/s the images.
func BenchmarkImages(b *testing.B) {
	dir := corpusDir(b)
	for _, name := range []string{"zstd-indexed", "lz4-indexed", "zstd-noindex"} {
		b.Run(name, func(b *testing.B) {
			data := readFile(b, filepath.Join(dir, name+".mcap"))
			var msgs, payload int64
			b.ReportAllocs()
			for b.Loop() {
				r, err := mcap.Open(bytes.NewReader(data), int64(len(data)), mcap.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				msgs, payload = 0, 0
				err = r.Images(context.Background(), mcap.Selection{}, func(im mcap.Image) error {
					if im.Err != nil {
						b.Fatal(im.Err)
					}
					msgs++
					payload += int64(len(im.Data))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(payload)
			b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
