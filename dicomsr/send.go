package dicomsr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/source"
)

// destination sends reports with STOW-RS.
type destination struct {
	client *dicomweb.Client
	owned  bool // the client is ours to close
}

// openDestination opens Config.Send for a job whose input is src (at
// inputURL); nil when reports are not sent.
func openDestination(send, inputURL string, src source.Source) (*destination, error) {
	switch send {
	case "":
		return nil, nil
	case SendToSource:
		ds, ok := src.(*dicomweb.Source)
		if !ok {
			return nil, fmt.Errorf("sr send %q: the job's input is not a DICOMweb service (%s)", send, scheme(inputURL))
		}
		return &destination{client: ds.Client()}, nil
	}
	cfg, _, err := dicomweb.ParseURL(send)
	if err != nil {
		return nil, fmt.Errorf("sr send: %w", err)
	}
	c, err := dicomweb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("sr send: %w", err)
	}
	return &destination{client: c, owned: true}, nil
}

func scheme(url string) string {
	s, _, _ := strings.Cut(url, ":")
	return s + "://"
}

// send stores one report in its study.
func (d *destination) send(ctx context.Context, study, sop string, data []byte) error {
	res, err := d.client.StoreInstances(ctx, study, data)
	if err != nil {
		return err
	}
	for _, uid := range res.Stored {
		if uid == sop {
			return nil
		}
	}
	return fmt.Errorf("STOW studies/%s: the answer does not name the report %s as stored: %w", study, sop, dicomweb.ErrBadResponse)
}

func (d *destination) close() {
	if d != nil && d.owned {
		d.client.Close()
	}
}

// errNotSent wraps a report written to the job's folder but not sent.
var errNotSent = errors.New("report not sent")
