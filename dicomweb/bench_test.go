package dicomweb_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/source"
)

// element appends one explicit VR little endian element.
func element(b []byte, group, elem uint16, vr string, value []byte) []byte {
	if len(value)%2 == 1 {
		pad := byte(' ')
		if vr == "UI" || vr == "OB" {
			pad = 0
		}
		value = append(value, pad)
	}
	b = binary.LittleEndian.AppendUint16(b, group)
	b = binary.LittleEndian.AppendUint16(b, elem)
	b = append(b, vr...)
	if vr == "OB" || vr == "OW" {
		b = append(b, 0, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(value)))
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	}
	return append(b, value...)
}

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// ctSlice is a Part 10 CT image of side×side 16-bit pixels.
func ctSlice(study, series, sop string, side int) []byte {
	const ct, explicit = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.1.2.1"
	var meta []byte
	meta = element(meta, 2, 1, "OB", []byte{0, 1})
	meta = element(meta, 2, 2, "UI", []byte(ct))
	meta = element(meta, 2, 3, "UI", []byte(sop))
	meta = element(meta, 2, 0x10, "UI", []byte(explicit))
	out := append(make([]byte, 128), "DICM"...)
	out = element(out, 2, 0, "UL", binary.LittleEndian.AppendUint32(nil, uint32(len(meta))))
	out = append(out, meta...)
	out = element(out, 8, 0x16, "UI", []byte(ct))
	out = element(out, 8, 0x18, "UI", []byte(sop))
	out = element(out, 8, 0x60, "CS", []byte("CT"))
	out = element(out, 0x10, 0x20, "LO", []byte("BENCH"))
	out = element(out, 0x20, 0xD, "UI", []byte(study))
	out = element(out, 0x20, 0xE, "UI", []byte(series))
	out = element(out, 0x28, 2, "US", us(1))
	out = element(out, 0x28, 4, "CS", []byte("MONOCHROME2"))
	out = element(out, 0x28, 0x10, "US", us(uint16(side)))
	out = element(out, 0x28, 0x11, "US", us(uint16(side)))
	for i, v := range []uint16{16, 12, 11, 0} { // allocated, stored, high bit, unsigned
		out = element(out, 0x28, 0x100+uint16(i), "US", us(v))
	}
	pixels := make([]byte, 2*side*side)
	for i := range side * side {
		binary.LittleEndian.PutUint16(pixels[2*i:], uint16((i*7+len(sop))%4096))
	}
	return element(out, 0x7FE0, 0x10, "OW", pixels)
}

// benchSources are n instances of side×side in an Orthanc and in a bucket
// under the same keys.
func benchSources(b *testing.B, n, side int) (web, bucket source.Source, keys []string, bytes int64) {
	o := orthanctest.Start(b, orthanctest.Options{})
	dir := b.TempDir()
	for i := range n {
		study, series := "1.2.826.0.1.3680043.10.1", fmt.Sprintf("1.2.826.0.1.3680043.10.1.%d", i/100)
		sop := fmt.Sprintf("%s.%d", series, i)
		data := ctSlice(study, series, sop, side)
		if err := o.Upload(context.Background(), data); err != nil {
			b.Fatal(err)
		}
		key := fmt.Sprintf("studies/%s/series/%s/instances/%s", study, series, sop)
		path := filepath.Join(dir, filepath.FromSlash(key))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		keys, bytes = append(keys, key), bytes+int64(len(data))
	}
	return open(b, sourceURL(o.DICOMweb(), "rate=0&inflight=4")), open(b, "file://"+dir), keys, bytes / int64(n)
}

// BenchmarkReadInstances reads the same instances over DICOMweb from a
// local Orthanc and from a file:// bucket holding the same files, one at a
// time (as a worker's batch reads) and four at a time, in alternating
// rounds of 40 reads, so that both see the same load on the machine; it
// reports both rates and their ratio.
func BenchmarkReadInstances(b *testing.B) {
	const round = 40
	for _, side := range []int{28, 512} {
		web, bucket, keys, size := benchSources(b, 200, side)
		for _, par := range []int{1, 4} {
			b.Run(fmt.Sprintf("%dx%d/%d_at_a_time", side, side, par), func(b *testing.B) {
				b.SetBytes(2 * round * size)
				var tWeb, tBucket time.Duration
				n := 0
				for b.Loop() {
					tWeb += timedRound(b, web, keys, n, round, par)
					tBucket += timedRound(b, bucket, keys, n, round, par)
					n += round
				}
				b.ReportMetric(float64(n)/tWeb.Seconds(), "dicomweb_inst/s")
				b.ReportMetric(float64(n)/tBucket.Seconds(), "bucket_inst/s")
				b.ReportMetric(tWeb.Seconds()/tBucket.Seconds(), "ratio")
			})
		}
	}
}

// timedRound reads n keys from src (from keys[from]), par at a time, and
// returns how long that took.
func timedRound(b *testing.B, src source.Source, keys []string, from, n, par int) time.Duration {
	var next atomic.Int64
	next.Store(int64(from))
	start := time.Now()
	var wg sync.WaitGroup
	for range par {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(from+n); i = next.Add(1) - 1 {
				if _, err := src.Read(context.Background(), keys[int(i)%len(keys)], 1<<30); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}
