package dicomsr

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/didicm/didicm/dicomsr/part10"
)

// ComprehensiveSR is the SOP class of the reports (Comprehensive SR
// Storage): content items of every value type a classifier's report needs,
// by reference to images of the study.
const ComprehensiveSR = "1.2.840.10008.5.1.4.1.1.88.33"

// Report is one structured report: the classified images of one study
// (or one series of it), written into that study as a series of its own.
type Report struct {
	// Study is the source study as its own instances describe it.
	Study Study
	// SeriesUID and InstanceUID are the report's own (DeriveUID);
	// SeriesNumber its series number in the study.
	SeriesUID, InstanceUID string
	SeriesNumber           int
	// Time is when the results were complete: the report's content and
	// instance creation date and time (UTC).
	Time time.Time
	// Model made the results; Parameters are the algorithm's settings
	// (TID 4019's Algorithm Parameters).
	Model      Model
	Parameters []string
	// Images are the classified images, in the order the report lists them.
	Images []Image
	// Incomplete, when set, says what the report leaves out (images that
	// failed, or past the report's bound): the completion flag is PARTIAL
	// and this its description.
	Incomplete string
	// SoftwareVersion is didicm's (General Equipment's Software Versions).
	SoftwareVersion string
}

// Image is one classified image (a frame, in a multi-frame instance).
type Image struct {
	Series, SOPClass, SOP string
	// Frame is the 1-based frame of a multi-frame file; 0: none. The
	// image's reference names it when the SOP class is a multi-frame one
	// (a multi-frame file of a single-frame class, as some archives hold,
	// is referenced whole, its tracking identifier naming the frame).
	Frame int
	// Class is the predicted class; Probability its posterior probability
	// and EntropyNorm the posterior's entropy over log K.
	Class                    Code
	Probability, EntropyNorm float64
	// Set is the calibrated prediction set, most probable first (nil
	// without a calibration; empty when the set is empty).
	Set []Code
	// Review says the job's review rule sends the image to a person.
	Review bool
	// TrackingUID identifies this image's result across reports (DeriveUID).
	TrackingUID string
}

// Encode writes the report as a Part 10 file.
func (r *Report) Encode() ([]byte, error) {
	ds, err := r.dataset()
	if err != nil {
		return nil, err
	}
	return part10.Encode(part10.Meta{SOPClass: ComprehensiveSR, SOPInstance: r.InstanceUID,
		ImplementationClass: ImplementationClassUID, ImplementationVersion: ImplementationVersionName}, ds)
}

// dataset is the report's modules (PS3.3 A.35.3, Comprehensive SR IOD):
// Patient, General Study and Patient Study (copied from the source), SR
// Document Series, General Equipment, SR Document General, SR Document
// Content and SOP Common.
func (r *Report) dataset() (part10.Dataset, error) {
	if len(r.Images) == 0 {
		return nil, fmt.Errorf("report for study %s: no images", r.Study.UID)
	}
	day, clock := r.Time.UTC().Format("20060102"), r.Time.UTC().Format("150405")
	completion := "COMPLETE"
	if r.Incomplete != "" {
		completion = "PARTIAL"
	}
	ds := part10.Dataset{
		part10.UID(0x00080016, ComprehensiveSR),
		part10.UID(0x00080018, r.InstanceUID),
		part10.Text(0x00080012, "DA", day), part10.Text(0x00080013, "TM", clock),
		part10.Text(0x00080201, "SH", "+0000"),
		schemes(r.Model),
		// SR Document Series
		part10.Text(0x00080060, "CS", "SR"),
		part10.UID(0x0020000E, r.SeriesUID),
		part10.Int(0x00200011, r.SeriesNumber),
		part10.Text(0x0008103E, "LO", cut("didicm "+r.Model.Name+" classification", 64)),
		part10.Text(0x00080021, "DA", day), part10.Text(0x00080031, "TM", clock),
		part10.Seq(0x00081111),
		// General Equipment
		part10.Text(0x00080070, "LO", "didicm"),
		part10.Text(0x00081090, "LO", "didicm"),
		part10.Text(0x00181020, "LO", cut(r.SoftwareVersion, 64)),
		// SR Document General
		part10.Int(0x00200013, 1),
		part10.Text(0x0040A491, "CS", completion),
		part10.Text(0x0040A493, "CS", "UNVERIFIED"),
		part10.Text(0x00080023, "DA", day), part10.Text(0x00080033, "TM", clock),
		part10.Seq(0x0040A372),
		r.evidence(),
	}
	if r.Incomplete != "" {
		ds = append(ds, part10.Text(0x0040A492, "LO", cut(r.Incomplete, 64)))
	}
	ds = append(ds, r.content().dataset()...)
	return r.Study.merge(ds)
}

// evidence is the Current Requested Procedure Evidence Sequence: every
// instance the report refers to, by series.
func (r *Report) evidence() part10.Element {
	type inst struct{ series, class, sop string }
	var all []inst
	for _, im := range r.Images {
		all = append(all, inst{im.Series, im.SOPClass, im.SOP})
	}
	slices.SortFunc(all, func(a, b inst) int { return cmp.Or(cmp.Compare(a.series, b.series), cmp.Compare(a.sop, b.sop)) })
	all = slices.Compact(all)
	var series []part10.Dataset
	for i := 0; i < len(all); {
		var refs []part10.Dataset
		j := i
		for ; j < len(all) && all[j].series == all[i].series; j++ {
			refs = append(refs, part10.Dataset{part10.UID(0x00081150, all[j].class), part10.UID(0x00081155, all[j].sop)})
		}
		series = append(series, part10.Dataset{part10.UID(0x0020000E, all[i].series), part10.Seq(0x00081199, refs...)})
		i = j
	}
	return part10.Seq(0x0040A375, part10.Dataset{
		part10.UID(0x0020000D, r.Study.UID),
		part10.Seq(0x00081115, series...),
	})
}

// content is the document's tree: a TID 1500-style measurement report
// (docs/pacs.md draws it).
func (r *Report) content() node {
	algo := []node{
		textItem(conceptMod, codeAlgorithmName, r.Model.Name),
		textItem(conceptMod, codeAlgorithmVer, r.Model.Version),
	}
	for _, p := range r.Parameters {
		algo = append(algo, textItem(conceptMod, codeAlgorithmParams, p))
	}
	measurements := container(contains, codeMeasurements, algo...)
	for _, im := range r.Images {
		measurements.children = append(measurements.children, im.group())
	}
	return container("", codeReport,
		codeItem(conceptMod, codeLanguage, codeEnglishUS),
		codeItem(obsContext, codeObserverType, codeDevice),
		uidItem(obsContext, codeDeviceUID, DeriveUID("didicm device", r.Model.SHA256)),
		textItem(obsContext, codeDeviceName, "didicm"),
		textItem(obsContext, codeDeviceMaker, "didicm"),
		textItem(obsContext, codeDeviceModel, "DiDiCM classifier"),
		codeItem(conceptMod, codeProcedure, codeImaging),
		measurements,
	)
}

// group is an image's Measurement Group (TID 1501-style).
func (im Image) group() node {
	id := "image " + im.SOP
	if im.Frame > 0 {
		id += " frame " + strconv.Itoa(im.Frame)
	}
	review := codeNo
	if im.Review {
		review = codeYes
	}
	g := container(contains, codeGroup,
		textItem(obsContext, codeTrackingID, id),
		uidItem(obsContext, codeTrackingUID, im.TrackingUID),
		codeItem(contains, codeFinding, im.Class),
		imageItem(contains, codeSource, im.ref()),
		numItem(contains, codeProbability, im.Probability, codeNoUnits),
		numItem(contains, codeEntropy, im.EntropyNorm, codeNoUnits),
	)
	if im.Set != nil {
		g.children = append(g.children, numItem(contains, codeSetSize, float64(len(im.Set)), codeNoUnits))
		for _, c := range im.Set {
			g.children = append(g.children, codeItem(contains, codeSetMember, c))
		}
	}
	g.children = append(g.children, codeItem(contains, codeReview, review))
	return g
}

// ref is the image's reference: its instance, and its frame in a
// multi-frame SOP class.
func (im Image) ref() imageRef {
	r := imageRef{sopClass: im.SOPClass, sop: im.SOP}
	if im.Frame > 0 && !singleFrame[im.SOPClass] {
		r.frame = im.Frame
	}
	return r
}
