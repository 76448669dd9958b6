package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"
)

// The compose test reads and writes through gocloud's s3 driver: nested keys,
// delimiter listing, metadata, and a bucket made by the first write.
func TestGocloudRoundTripsThroughTheFolder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	root := t.TempDir()
	go func() { _ = serve(addr, root) }()
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	ctx := context.Background()
	url := fmt.Sprintf("s3://jobs?endpoint=http://%s&use_path_style=true&region=us-east-1", addr)
	var b *blob.Bucket
	for i := 0; ; i++ { // the server starts in the background
		if b, err = blob.OpenBucket(ctx, url); err == nil {
			if _, err = b.Exists(ctx, "x"); err == nil {
				break
			}
			b.Close()
		}
		if i == 50 {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer b.Close()
	meta := map[string]string{"producer": "p1"}
	for _, k := range []string{"in/a/1.png", "in/a/2.png", "in/b/3.png", "out/x.json"} {
		if err := b.WriteAll(ctx, k, []byte("data "+k), &blob.WriterOptions{Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: "in/"})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, o.Key)
	}
	if fmt.Sprint(keys) != "[in/a/1.png in/a/2.png in/b/3.png]" {
		t.Fatalf("listed %v", keys)
	}
	a, err := b.Attributes(ctx, "in/b/3.png")
	if err != nil || a.Metadata["producer"] != "p1" {
		t.Fatalf("attributes %+v, %v", a, err)
	}
	if got, err := b.ReadAll(ctx, "out/x.json"); err != nil || string(got) != "data out/x.json" {
		t.Fatalf("read %q, %v", got, err)
	}
	if ok, _ := filepath.Glob(filepath.Join(root, "buckets", "jobs", "in", "a", "*.png")); len(ok) != 2 {
		t.Fatalf("objects are not files under the root: %v", ok)
	}
	// A folder that is not there lists as empty, by delimiter too (the
	// producer's first look at a job's results).
	for _, delim := range []string{"", "/"} {
		it := b.List(&blob.ListOptions{Prefix: "results/", Delimiter: delim})
		if o, err := it.Next(ctx); !errors.Is(err, io.EOF) {
			t.Fatalf("listing an absent folder (delimiter %q): %v, %v", delim, o, err)
		}
	}
}
