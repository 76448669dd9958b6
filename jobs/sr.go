package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
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
