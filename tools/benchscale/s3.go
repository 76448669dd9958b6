package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// slowListing delays listing requests (GET on a bucket with list-type) by d.
func slowListing(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
			time.Sleep(d)
		}
		h.ServeHTTP(w, r)
	})
}

// serveS3 serves the S3 protocol from memory (gofakes3's s3mem backend,
// the server the tests use) with bucket "archive" holding n keys (the
// sources' bytes, or one byte each with -tiny for a listing alone) and an
// empty bucket "out", until SIGTERM. It prints "ready" when it listens.
func serveS3(args []string) error {
	fs := flag.NewFlagSet("s3", flag.ExitOnError)
	src := fs.String("src", "", "folder of source PNGs")
	n := fs.Int("n", 100_000, "keys")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	tiny := fs.Bool("tiny", false, "one-byte objects (for a listing alone)")
	latency := fs.Duration("list-latency", 0, "added to every listing request (a real S3 region's round trip)")
	_ = fs.Parse(args)
	bodies, err := bodiesOf(*src, *tiny)
	if err != nil {
		return err
	}
	backend := s3mem.New()
	for _, b := range []string{"archive", "out"} {
		if err := backend.CreateBucket(b); err != nil {
			return err
		}
	}
	start := time.Now()
	for i := range *n {
		body := bodies[i%len(bodies)]
		if _, err := backend.PutObject("archive", key(i), map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "benchscale: %d objects in %.1f s\n", *n, time.Since(start).Seconds())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	h := gofakes3.New(backend).Server()
	if *latency > 0 {
		h = slowListing(h, *latency)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Printf("ready http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func bodiesOf(src string, tiny bool) ([][]byte, error) {
	if tiny {
		return [][]byte{{'x'}}, nil
	}
	srcs, err := sources(src)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, p := range srcs {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
