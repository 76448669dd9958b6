package dicomsr

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/didicm/didicm/source"
)

// Per says what one report covers.
const (
	PerStudy  = "study"
	PerSeries = "series"
)

// SendToSource is Config.Send's word for the job's own input.
const SendToSource = "source"

// Config configures a Writer. Each field's zero value means the default
// its comment names.
type Config struct {
	// Model describes the job's model (ModelOf). Required.
	Model Model
	// Per is PerStudy (one report per study; empty means it) or PerSeries
	// (one per series of each study).
	Per string
	// Send is where reports are sent with STOW-RS, besides the job's
	// folder: empty: nowhere; SendToSource: the job's input, which must
	// then be a DICOMweb service; else a DICOMweb service as an input URL
	// names one (dicomweb+http(s)://host/path, its lower-case options
	// allowed, its credentials the process's: dicomweb.SetCredentials or
	// DIDICM_DICOMWEB_*).
	Send string
	// SeriesNumber is the reports' Series Number. Zero means 9901.
	SeriesNumber int
	// MaxImages bounds the images one report lists (and holds in memory);
	// further ones are left out and the report is marked PARTIAL. Zero
	// means 10,000.
	MaxImages int
	// Parallel bounds the source headers read at once. Zero means 4.
	Parallel int
	// TempDir holds the file that groups the job's records. Empty means
	// the system's temporary folder.
	TempDir string
	// SoftwareVersion is didicm's version, written as the reports'
	// Software Versions. Empty means the module version of this build.
	SoftwareVersion string
	// OpenSource opens the job's input. Nil means source.Open.
	OpenSource func(ctx context.Context, url string) (source.Source, error)
	// Log receives a line per report (UIDs and counts, never patient
	// data). Nil means none.
	Log *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	switch c.Per {
	case "":
		c.Per = PerStudy
	case PerStudy, PerSeries:
	default:
		return c, fmt.Errorf("sr per %q: want %s or %s", c.Per, PerStudy, PerSeries)
	}
	if len(c.Model.Classes) == 0 || c.Model.SHA256 == "" {
		return c, fmt.Errorf("sr: the model's classes and sha256 are needed (dicomsr.ModelOf)")
	}
	if c.SeriesNumber == 0 {
		c.SeriesNumber = 9901
	}
	if c.MaxImages == 0 {
		c.MaxImages = 10_000
	}
	if c.Parallel == 0 {
		c.Parallel = 4
	}
	if c.SoftwareVersion == "" {
		c.SoftwareVersion = "didicm (devel)"
		if bi, ok := debug.ReadBuildInfo(); ok {
			c.SoftwareVersion = "didicm " + bi.Main.Version
		}
	}
	if c.OpenSource == nil {
		c.OpenSource = source.Open
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
