package dicomsr

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// maker turns a group's entries into a report.
type maker struct {
	cfg    Config
	job    *output.Job
	in     *instances
	rule   pipeline.ReviewRule
	time   time.Time
	byName map[string]int // class index by name
}

// jobKey names the job in derived UIDs: its output bucket, folder and ID
// (jobs.Ref.Key), so that two jobs of one ID in different places never
// share a report.
func (mk *maker) jobKey() string { return mk.job.Spec.Ref().Key() }

// uids are a group's report's series and instance UIDs.
func (mk *maker) uids(info *groupInfo) (series, instance string) {
	parts := []string{mk.jobKey(), mk.cfg.Per, info.study, info.series}
	return DeriveUID(append([]string{"didicm sr series"}, parts...)...),
		DeriveUID(append([]string{"didicm sr instance"}, parts...)...)
}

// report makes a group's report; nil when none of its images was
// classified.
func (mk *maker) report(ctx context.Context, groups *spill[entry], key string, info *groupInfo) (*Report, error) {
	total := groups.Len(key)
	if total == 0 {
		return nil, nil
	}
	var ents []entry
	if err := groups.Read(key, mk.cfg.MaxImages, func(e entry) error {
		ents = append(ents, e)
		return nil
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(ents, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.Series, b.Series), cmp.Compare(a.SOP, b.SOP), cmp.Compare(a.Frame, b.Frame))
	})
	objs := objectsOf(ents)
	classes, err := mk.in.sopClasses(ctx, info.study, objs)
	if err != nil {
		return nil, err
	}
	study, err := mk.in.study(ctx, objs[0].key, info.study)
	if err != nil {
		return nil, err
	}
	rep := &Report{Study: study, SeriesNumber: mk.cfg.SeriesNumber, Time: mk.time, Model: mk.cfg.Model,
		Parameters: mk.parameters(ents[0]), SoftwareVersion: mk.cfg.SoftwareVersion,
		Incomplete: incomplete(info.failed, len(ents), total)}
	rep.SeriesUID, rep.InstanceUID = mk.uids(info)
	for _, e := range ents {
		im, err := mk.image(e, classes[e.SOP])
		if err != nil {
			return nil, err
		}
		rep.Images = append(rep.Images, im)
	}
	return rep, nil
}

// objectsOf lists the entries' instances once each, in entry order.
func objectsOf(ents []entry) []object {
	var objs []object
	seen := map[string]bool{}
	for _, e := range ents {
		if !seen[e.SOP] {
			seen[e.SOP] = true
			objs = append(objs, object{key: objectKey(e.Key), series: e.Series, sop: e.SOP})
		}
	}
	return objs
}

// incomplete describes what a report leaves out, or is "".
func incomplete(failed, listed, classified int) string {
	var parts []string
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d images not classified", failed))
	}
	if listed < classified {
		parts = append(parts, fmt.Sprintf("%d of %d classified images listed", listed, classified))
	}
	return strings.Join(parts, "; ")
}

// image is one entry as the report lists it.
func (mk *maker) image(e entry, sopClass string) (Image, error) {
	im := Image{Series: e.Series, SOPClass: sopClass, SOP: e.SOP, Probability: e.Prob, EntropyNorm: e.Entropy,
		Frame: e.Frame, Review: e.Review,
		TrackingUID: DeriveUID("didicm sr tracking", mk.jobKey(), e.SOP, strconv.Itoa(e.Frame))}
	var err error
	if im.Class, err = mk.class(e.Name, e.Class); err != nil {
		return Image{}, err
	}
	if e.Cal {
		im.Set = []Code{}
		for _, name := range e.Set {
			c, err := mk.class(name, -1)
			if err != nil {
				return Image{}, err
			}
			im.Set = append(im.Set, c)
		}
	}
	return im, nil
}

// class is the code of a class a record names.
func (mk *maker) class(name string, index int) (Code, error) {
	i, ok := mk.byName[name]
	if !ok || index >= 0 && index != i {
		return Code{}, fmt.Errorf("a record's class %q (index %d) is not the model's (%s)", name, index, mk.cfg.Model.Name)
	}
	return mk.cfg.Model.class(i, name), nil
}

// parameters are the algorithm's settings, as TID 4019 Algorithm
// Parameters.
func (mk *maker) parameters(e entry) []string {
	spec := mk.job.Spec
	ps := []string{"model_sha256=" + mk.cfg.Model.SHA256, fmt.Sprintf("sampler=%s T=%d", e.Sampler, e.Steps)}
	if c := spec.Calibration; c != nil {
		ps = append(ps, fmt.Sprintf("calibration=%s alpha=%g", c.Method, c.Alpha))
	}
	if mk.rule.BySetSize {
		ps = append(ps, "review=prediction set size other than 1")
	} else {
		ps = append(ps, fmt.Sprintf("review=entropy_norm>%g", mk.rule.Threshold))
	}
	return append(ps, "job="+spec.ID)
}

// singleFrame are image SOP classes whose IODs have no Multi-frame
// module (CR, DX, MG, IO, CT, MR, US, SC, PET, VL): a reference to one of
// their instances names no frame.
var singleFrame = map[string]bool{
	"1.2.840.10008.5.1.4.1.1.1": true, "1.2.840.10008.5.1.4.1.1.1.1": true, "1.2.840.10008.5.1.4.1.1.1.1.1": true,
	"1.2.840.10008.5.1.4.1.1.1.2": true, "1.2.840.10008.5.1.4.1.1.1.2.1": true, "1.2.840.10008.5.1.4.1.1.1.3": true,
	"1.2.840.10008.5.1.4.1.1.1.3.1": true, "1.2.840.10008.5.1.4.1.1.2": true, "1.2.840.10008.5.1.4.1.1.4": true,
	"1.2.840.10008.5.1.4.1.1.6.1": true, "1.2.840.10008.5.1.4.1.1.7": true, "1.2.840.10008.5.1.4.1.1.128": true,
	"1.2.840.10008.5.1.4.1.1.77.1.1": true, "1.2.840.10008.5.1.4.1.1.77.1.2": true, "1.2.840.10008.5.1.4.1.1.77.1.3": true,
	"1.2.840.10008.5.1.4.1.1.77.1.4": true,
}
