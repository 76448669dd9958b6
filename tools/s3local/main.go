// Command s3local serves the S3 protocol over a folder, for the compose test
// and for trying didicm out on a machine that cannot pull an S3 server image
// (docker-compose.local.yml). Buckets are subfolders of -root/buckets and are
// created on first write; object metadata lives in -root/meta. It does not
// check credentials and trusts its clients' request sizes (gofakes3 reads XML
// request bodies whole): run it only on a private network, as the compose
// override does.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

func main() {
	addr := flag.String("addr", ":7070", "listen address")
	root := flag.String("root", "/data", "folder that holds the buckets")
	flag.Parse()
	if err := serve(*addr, *root); err != nil {
		fmt.Fprintln(os.Stderr, "s3local:", err)
		os.Exit(1)
	}
}

func serve(addr, root string) error {
	osfs := afero.NewOsFs()
	top, err := s3afero.NewBasePathFs(osfs, root, s3afero.FsPathCreateAll) // the backend keeps buckets in top/buckets
	if err != nil {
		return err
	}
	meta, err := s3afero.NewBasePathFs(osfs, filepath.Join(root, "meta"), s3afero.FsPathCreateAll)
	if err != nil {
		return err
	}
	backend, err := s3afero.MultiBucket(top, s3afero.MultiWithMetaFs(meta))
	if err != nil {
		return err
	}
	s3 := gofakes3.New(emptyPrefixes{backend}, gofakes3.WithAutoBucket(true), gofakes3.WithoutVersioning())
	srv := &http.Server{Addr: addr, Handler: s3.Server(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("s3local: serving %s on %s", root, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// emptyPrefixes lists a folder that does not exist in a bucket that does as
// S3 does, with nothing in it. The folder backend answers a listing by
// delimiter ("/") under such a prefix with NoSuchBucket, which made a
// job's first listing of its results (none yet) fail.
type emptyPrefixes struct{ gofakes3.Backend }

func (b emptyPrefixes) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	list, err := b.Backend.ListBucket(name, prefix, page)
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
		if ok, exErr := b.BucketExists(name); exErr == nil && ok {
			return gofakes3.NewObjectList(), nil
		}
	}
	return list, err
}
