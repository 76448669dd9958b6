package dicomweb_test

import (
	"context"
	"fmt"
	"log"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/storage"
)

func ExampleOpen() {
	ctx := context.Background()
	// The CT series of January's studies, at most two requests at once and
	// twenty a second. pacs is an Orthanc started by the tests.
	src, err := dicomweb.Open(ctx, "dicomweb+"+pacs.DICOMweb()+"?StudyDate=20240101-20240131&Modality=CT&inflight=2&rate=20")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	// Of those, the axial series of 5 or more instances.
	err = src.SelectSeries([]dicomweb.SeriesRule{{ImageType: []string{"AXIAL"}, MinInstances: 5}})
	if err != nil {
		log.Fatal(err)
	}
	var keys []string
	err = src.Walk(ctx, "", storage.Filter{}, func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	data, err := src.Read(ctx, keys[0], 64<<20)
	if err != nil {
		log.Fatal(err)
	}
	k, _ := dicomweb.ParseKey(keys[0])
	fmt.Printf("%d instances, each keyed studies/%s/series/%s/instances/…; the first is a Part 10 file: %s\n",
		len(keys), k.Study[:8]+"…", k.Series[:8]+"…", data[128:132])
	// Output: 8 instances, each keyed studies/1.2.826.…/series/1.2.826.…/instances/…; the first is a Part 10 file: DICM
}
