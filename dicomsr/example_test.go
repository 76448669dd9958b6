package dicomsr_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/internal/dicomtest"
)

// A report on one image of a study, from that study's own header.
func ExampleReport() {
	var hdr dicomtest.Dataset
	hdr.El(0x0008, 0x0016, "UI", dicomtest.Text("1.2.840.10008.5.1.4.1.1.2")).
		El(0x0010, 0x0010, "PN", dicomtest.Text("Doe^Jane")).
		El(0x0020, 0x000D, "UI", dicomtest.Text("1.2.3"))
	instance := dicomtest.Part10("1.2.840.10008.1.2.1", hdr.Bytes())
	study, err := dicomsr.ReadStudy(bytes.NewReader(instance), 0)
	if err != nil {
		panic(err)
	}
	sha := "604229bf00000000000000000000000000000000000000000000000000000000"
	model := dicomsr.Model{Name: "didirn", Version: "1", SHA256: sha, ClassNames: []string{"normal", "nodule"},
		Classes: []dicomsr.Code{{Value: "17621005", Scheme: "SCT", Meaning: "Normal"},
			{Value: "1", Scheme: dicomsr.ClassScheme, SchemeVersion: sha[:16], Meaning: "nodule"}}}
	rep := dicomsr.Report{Study: study, SeriesNumber: 9901, Time: time.Unix(0, 0), Model: model,
		SeriesUID: dicomsr.DeriveUID("job", "1.2.3", "series"), InstanceUID: dicomsr.DeriveUID("job", "1.2.3", "sop"),
		Images: []dicomsr.Image{{Series: "1.2.3.4", SOPClass: "1.2.840.10008.5.1.4.1.1.2", SOP: "1.2.3.4.5",
			Class: model.Classes[1], Probability: 0.97, EntropyNorm: 0.1, TrackingUID: dicomsr.DeriveUID("job", "1.2.3.4.5")}}}
	file, err := rep.Encode()
	if err != nil {
		panic(err)
	}
	fmt.Println(string(file[128:132]), rep.InstanceUID)
	// Output: DICM 2.25.258887792660393502703513197900255943882
}
