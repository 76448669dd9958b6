package part10_test

import (
	"bytes"
	"fmt"

	"github.com/didicm/didicm/dicomsr/part10"
)

func Example() {
	ds := part10.Dataset{
		part10.UID(0x00080016, "1.2.840.10008.5.1.4.1.1.88.33"),
		part10.UID(0x00080018, "2.25.42"),
		part10.Text(0x00100010, "PN", "Doe^Jane"),
	}
	file, err := part10.Encode(part10.Meta{SOPClass: "1.2.840.10008.5.1.4.1.1.88.33", SOPInstance: "2.25.42",
		ImplementationClass: "2.25.7", ImplementationVersion: "EXAMPLE"}, ds)
	if err != nil {
		panic(err)
	}
	h, err := part10.ReadHeader(bytes.NewReader(file), part10.Want{0x00080018: "UI"}, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(h.TransferSyntax, h.Elements.Text(0x00080018))
	// Output: 1.2.840.10008.1.2.1 2.25.42
}
