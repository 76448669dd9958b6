package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A job's DICOM structured reports (package dicomsr), beside its results:
//
//	sr/STUDY.dcm              the report of one study (dicomsr per study)
//	sr/STUDY/SERIES.dcm       the report of one series (dicomsr per series)
//
// STUDY and SERIES are the source's Study and Series Instance UIDs, or the
// hex SHA-256 of one that is not a plain UID (digits and dots, at most 64).
// The reports hold the patient and study attributes a PACS files them by:
// unlike the rest of the job's objects, they are patient data.

// SRSpec asks a job for DICOM structured reports when it finishes.
type SRSpec struct {
	// Per is "study" (one report per study) or "series".
	Per string `json:"per"`
	// Send is where reports go with STOW-RS besides the job's folder:
	// empty: nowhere; "source": the job's DICOMweb input; else a
	// dicomweb+http(s):// URL.
	Send string `json:"send,omitempty"`
}

// validate names a wrong field.
func (s *SRSpec) validate(inputURL string) error {
	switch {
	case s.Per != "study" && s.Per != "series":
		return fmt.Errorf("sr per %q: want study or series", s.Per)
	case s.Send == "source" && !strings.HasPrefix(inputURL, "dicomweb+"):
		return errors.New("sr send source: the job's input is not a DICOMweb service")
	case s.Send != "" && s.Send != "source" && !strings.HasPrefix(s.Send, "dicomweb+http://") && !strings.HasPrefix(s.Send, "dicomweb+https://"):
		return errors.New("sr send: want source or a dicomweb+http(s):// URL")
	}
	return nil
}

var plainUID = regexp.MustCompile(`^[0-9.]{1,64}$`)

// uidName is a UID as a key segment.
func uidName(uid string) string {
	if plainUID.MatchString(uid) && uid != "." && uid != ".." {
		return uid
	}
	h := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(h[:])
}

// SRDir holds the job's structured reports.
func (l Layout) SRDir() string { return l.key("sr/") }

// SR is the report of study, or of one series of it when series is set.
func (l Layout) SR(study, series string) string {
	if series == "" {
		return l.key("sr/" + uidName(study) + ".dcm")
	}
	return l.key("sr/" + uidName(study) + "/" + uidName(series) + ".dcm")
}

// WriteSR writes a report (a DICOM Part 10 file), replacing one written
// before for the same study (and series).
func (s *Store) WriteSR(ctx context.Context, study, series string, data []byte) error {
	return s.bucket.Write(ctx, s.lay.SR(study, series), data, "application/dicom")
}

// ReadSR reads a report; storage.ErrNotFound when none was written.
func (s *Store) ReadSR(ctx context.Context, study, series string) ([]byte, error) {
	return s.bucket.Read(ctx, s.lay.SR(study, series), 0)
}
