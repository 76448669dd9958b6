package dicomsr

import (
	"strconv"

	"github.com/didicm/didicm/dicomsr/part10"
)

// Relationship types (PS3.3 C.17.3.2.4).
const (
	contains   = "CONTAINS"
	obsContext = "HAS OBS CONTEXT"
	conceptMod = "HAS CONCEPT MOD"
)

// node is one content item of the report's tree (PS3.3 C.17.3): a value
// of one type under a concept name, related to its parent by rel.
type node struct {
	rel, valueType string
	name           Code
	text, uid      string
	code           Code
	num            float64
	units          Code
	image          *imageRef
	children       []node
}

// imageRef is an IMAGE item's reference: a SOP instance and, in a
// multi-frame one, the 1-based frame.
type imageRef struct {
	sopClass, sop string
	frame         int
}

func container(rel string, name Code, children ...node) node {
	return node{rel: rel, valueType: "CONTAINER", name: name, children: children}
}

func textItem(rel string, name Code, v string) node {
	return node{rel: rel, valueType: "TEXT", name: name, text: v}
}

func codeItem(rel string, name, v Code) node {
	return node{rel: rel, valueType: "CODE", name: name, code: v}
}

func uidItem(rel string, name Code, uid string) node {
	return node{rel: rel, valueType: "UIDREF", name: name, uid: uid}
}

func numItem(rel string, name Code, v float64, units Code) node {
	return node{rel: rel, valueType: "NUM", name: name, num: v, units: units}
}

func imageItem(rel string, name Code, ref imageRef) node {
	return node{rel: rel, valueType: "IMAGE", name: name, image: &ref}
}

// dataset writes the item (the root, without a relationship, as the
// document's top level; any other as an item of its parent's Content
// Sequence).
func (n node) dataset() part10.Dataset {
	ds := part10.Dataset{
		part10.Text(0x0040A040, "CS", n.valueType),
		part10.Seq(0x0040A043, n.name.item()),
	}
	if n.rel != "" {
		ds = append(ds, part10.Text(0x0040A010, "CS", n.rel))
	}
	switch n.valueType {
	case "CONTAINER":
		ds = append(ds, part10.Text(0x0040A050, "CS", "SEPARATE"))
	case "TEXT":
		ds = append(ds, part10.Text(0x0040A160, "UT", n.text))
	case "CODE":
		ds = append(ds, part10.Seq(0x0040A168, n.code.item()))
	case "UIDREF":
		ds = append(ds, part10.UID(0x0040A124, n.uid))
	case "NUM":
		ds = append(ds, part10.Seq(0x0040A300, part10.Dataset{
			part10.Seq(0x004008EA, n.units.item()),
			part10.Text(0x0040A30A, "DS", decimal(n.num)),
		}))
	case "IMAGE":
		ref := part10.Dataset{part10.UID(0x00081150, n.image.sopClass), part10.UID(0x00081155, n.image.sop)}
		if n.image.frame > 0 {
			ref = append(ref, part10.Int(0x00081160, n.image.frame))
		}
		ds = append(ds, part10.Seq(0x00081199, ref))
	}
	if len(n.children) > 0 {
		items := make([]part10.Dataset, len(n.children))
		for i, c := range n.children {
			items[i] = c.dataset()
		}
		ds = append(ds, part10.Seq(0x0040A730, items...))
	}
	return ds
}

// decimal writes v as a DS value: at most 16 characters, as precise as
// they allow (probabilities and entropies in [0, 1] keep 14 digits).
func decimal(v float64) string {
	for prec := 15; prec > 1; prec-- {
		if s := strconv.FormatFloat(v, 'g', prec, 64); len(s) <= 16 {
			return s
		}
	}
	return strconv.FormatFloat(v, 'g', 1, 64)
}
