package dicomsr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/didicm/didicm/dicomsr/part10"
	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/source"
)

// instances reads what a report needs of its source instances, from the
// job's input: each instance's SOP Class UID (records carry only the
// instance's UIDs) and its study's attributes, from one of its instances.
type instances struct {
	src      source.Source
	maxBytes int64 // the job's max_bytes: no instance is read past it
	parallel int   // header reads at once
}

// streamer is a source that reads an object as a stream (a bucket): a
// header read then stops at the attributes it wants.
type streamer interface {
	NewReader(ctx context.Context, key string) (io.ReadCloser, error)
}

// object is one referenced instance: its key in the source and its UIDs.
type object struct{ key, series, sop string }

// header reads an instance's header for want.
func (in *instances) header(ctx context.Context, key string, want part10.Want) (part10.Header, error) {
	if s, ok := in.src.(streamer); ok {
		r, err := s.NewReader(ctx, key)
		if err != nil {
			return part10.Header{}, err
		}
		defer r.Close()
		return part10.ReadHeader(io.LimitReader(r, in.maxBytes), want, 0)
	}
	data, err := in.src.Read(ctx, key, in.maxBytes)
	if err != nil {
		return part10.Header{}, err
	}
	return part10.ReadHeader(bytes.NewReader(data), want, 0)
}

// study reads the study's attributes from the instance at key.
func (in *instances) study(ctx context.Context, key, studyUID string) (Study, error) {
	h, err := in.header(ctx, key, studyWant)
	if err != nil {
		return Study{}, fmt.Errorf("read study attributes from %s: %w", key, err)
	}
	st, err := studyOf(h)
	if err != nil {
		return Study{}, fmt.Errorf("%s: %w", key, err)
	}
	if st.UID != studyUID {
		return Study{}, fmt.Errorf("%s: its study is %s, not %s as its record says", key, st.UID, studyUID)
	}
	return st, nil
}

// sopClasses finds the SOP Class UID of each object, by SOP Instance UID:
// from QIDO-RS, one search per series, when the source is a DICOMweb
// service; else (or for what QIDO-RS did not say) from each instance's
// header, read up to its SOP Instance UID.
func (in *instances) sopClasses(ctx context.Context, study string, objs []object) (map[string]string, error) {
	classes := map[string]string{}
	if ds, ok := in.src.(*dicomweb.Source); ok {
		if err := qidoClasses(ctx, ds.Client(), study, objs, classes); err != nil {
			return nil, err
		}
	}
	var missing []object
	for _, o := range objs {
		if classes[o.sop] == "" {
			missing = append(missing, o)
		}
	}
	return classes, in.headerClasses(ctx, missing, classes)
}

func qidoClasses(ctx context.Context, c *dicomweb.Client, study string, objs []object, classes map[string]string) error {
	wanted := map[string]map[string]bool{}
	for _, o := range objs {
		if wanted[o.series] == nil {
			wanted[o.series] = map[string]bool{}
		}
		wanted[o.series][o.sop] = true
	}
	for series, sops := range wanted {
		q := dicomweb.Query{IncludeFields: []string{"00080016"}}
		err := c.SearchInstances(ctx, study, series, q, func(m dicomweb.Match) error {
			if sop := m.String(dicomweb.TagSOPInstanceUID); sops[sop] {
				classes[sop] = m.String("00080016")
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("QIDO SOP classes of series %s: %w", series, err)
		}
	}
	return nil
}

// headerClasses reads the SOP classes of objs from their headers,
// parallel reads at once.
func (in *instances) headerClasses(ctx context.Context, objs []object, classes map[string]string) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, max(1, in.parallel))
	)
	want := part10.Want{tagSOPClass: "UI", tagSOP: "UI"}
	for _, o := range objs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			h, err := in.header(ctx, o.key, want)
			class, sop := h.Elements.Text(tagSOPClass), h.Elements.Text(tagSOP)
			switch {
			case err != nil:
				err = fmt.Errorf("read the SOP class of %s: %w", o.key, err)
			case sop != o.sop || class == "":
				err = fmt.Errorf("%s: SOP instance %q of class %q, its record says %s", o.key, sop, class, o.sop)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			classes[sop] = class
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
