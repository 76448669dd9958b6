//go:build demo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/dicomsr/part10"
	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

func init() { extraCommands = append(extraCommands, (*app).demoPACSCmd) }

// demoPACSDir is the folder of DIR that demo-pacs writes, and nothing else.
const demoPACSDir = "pacs"

func (a *app) demoPACSCmd() *cobra.Command {
	var dir string
	var wait bool
	cmd := &cobra.Command{
		Use:   "demo-pacs",
		Short: "Start Orthanc, load the demo's DICOM slices, classify them over DICOMweb, send the structured report back",
		Long: `Starts Orthanc (Debian's orthanc and orthanc-dicomweb, on a free loopback port,
with a storage folder of its own), stores the demo's three DICOM CT slices in it,
enqueues a job whose input is Orthanc's DICOMweb service, runs a worker in this
process until the job is done, then writes one DICOM structured report per study
(package dicomsr) into DIR/` + demoPACSDir + `/ and sends it into the study with STOW-RS.
It prints where the report is: the file, the Orthanc Explorer page that shows it,
and the QIDO-RS search that finds it. With --wait, Orthanc keeps running until
interrupted (Ctrl-C); without, it stops (and forgets what it held) when the
command ends.

DIR must be empty, new, or a folder the demo made; a rerun replaces only DIR/` + demoPACSDir + `.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := claimDemoDir(dir, demoPACSDir); err != nil {
				return usageError{err}
			}
			return a.demoPACS(cmd.Context(), dir, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "demo", "folder for the results (the demo's; a rerun replaces only DIR/"+demoPACSDir+")")
	f.BoolVar(&wait, "wait", false, "keep Orthanc running until interrupted, to look at the report")
	addRedisFlag(f)
	addSamplerFlags(f)
	return cmd
}

func (a *app) demoPACS(ctx context.Context, dir string, wait bool) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	pacs, err := orthanctest.New(orthanctest.Options{})
	if err != nil {
		return err
	}
	defer pacs.Close()
	n, err := uploadDemoDICOM(ctx, pacs)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "orthanc: %s (DICOMweb %s), holding the demo's %d DICOM CT slices\n", pacs.URL, pacs.DICOMweb(), n)
	cfg := *a.cfg
	stopRedis, err := a.demoRedis(&cfg)
	if err != nil {
		return err
	}
	defer stopRedis()
	cfg.Job = JobConfig{ID: "demo-pacs", InputURL: "dicomweb+" + pacs.DICOMweb() + "?rate=0",
		OutputURL: "file://" + filepath.Join(abs, demoPACSDir) + "?create_dir=true", BatchSize: 16,
		Posterior: jobs.DefaultPosterior, ReviewThreshold: jobs.DefaultReviewThreshold, MaxRetry: 2}
	cfg.Worker.MetricsAddr = ""
	rep, p, err := a.runDemoJob(ctx, &cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "job demo-pacs: %s read over DICOMweb (QIDO-RS, WADO-RS) in %d batches\n", plural(rep.Images, "image"), rep.Batches)
	if p.FailedBatches > 0 {
		return errors.New("some batches failed; see didicm status")
	}
	if err := a.writeDemoReports(ctx, &cfg, pacs, abs); err != nil {
		return err
	}
	if wait {
		fmt.Fprintf(a.stdout, "\nOrthanc keeps running at %s until you press Ctrl-C.\n", pacs.URL)
		<-ctx.Done()
	}
	return nil
}

// uploadDemoDICOM stores the embedded slices in Orthanc.
func uploadDemoDICOM(ctx context.Context, pacs *orthanctest.Server) (int, error) {
	entries, err := demoDICOM.ReadDir("demodicom")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		data, err := demoDICOM.ReadFile("demodicom/" + e.Name())
		if err != nil {
			return 0, err
		}
		if err := pacs.Upload(ctx, data); err != nil {
			return 0, err
		}
	}
	return len(entries), nil
}

// writeDemoReports writes the job's reports, sends them into Orthanc and
// prints where they are.
func (a *app) writeDemoReports(ctx context.Context, cfg *Config, pacs *orthanctest.Server, abs string) error {
	path, err := cfg.modelPath()
	if err != nil {
		return err
	}
	meta, err := a.demoModel()
	if err != nil {
		return err
	}
	sha, err := modelmeta.FileSHA256(path)
	if err != nil {
		return err
	}
	w, err := dicomsr.New(dicomsr.Config{Model: dicomsr.ModelOf(meta, path, sha), Send: dicomsr.SendToSource})
	if err != nil {
		return err
	}
	store, err := jobs.OpenStore(ctx, cfg.Job.ref())
	if err != nil {
		return err
	}
	defer store.Close()
	job, err := output.Open(ctx, store)
	if err != nil {
		return err
	}
	if err := w.Write(ctx, job); err != nil {
		return err
	}
	studies, err := demoStudies(ctx, job)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nstructured reports (DICOM Comprehensive SR, one per study, sent into the study with STOW-RS):\n")
	for _, study := range studies {
		if err := a.printDemoReport(ctx, store, pacs, abs, study); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "  what a report holds and how to read it: docs/pacs.md\n")
	return nil
}

// demoStudies are the studies of the job's DICOM records, sorted.
func demoStudies(ctx context.Context, job *output.Job) ([]string, error) {
	var out []string
	err := job.Records(ctx, func(r pipeline.Record) error {
		if r.StudyUID != "" && !slices.Contains(out, r.StudyUID) {
			out = append(out, r.StudyUID)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

func (a *app) printDemoReport(ctx context.Context, store *jobs.Store, pacs *orthanctest.Server, abs, study string) error {
	data, err := store.ReadSR(ctx, study, "")
	if err != nil {
		return err
	}
	h, err := part10.ReadHeader(bytes.NewReader(data), part10.Want{0x00080018: "UI", 0x0020000E: "UI"}, 0)
	if err != nil {
		return err
	}
	sop, series := h.Elements.Text(0x00080018), h.Elements.Text(0x0020000E)
	id, err := orthancID(ctx, pacs.URL, sop)
	if err != nil {
		return err
	}
	file := filepath.Join(abs, demoPACSDir, filepath.FromSlash(store.Layout().SR(study, "")))
	w := a.stdout
	fmt.Fprintf(w, "  study %s\n", study)
	fmt.Fprintf(w, "    file:     %s (dsrdump %s)\n", file, file)
	fmt.Fprintf(w, "    orthanc:  %s/app/explorer.html#instance?uuid=%s\n", pacs.URL, id)
	fmt.Fprintf(w, "    qido-rs:  %s/studies/%s/series?Modality=SR (series %s, instance %s)\n", pacs.DICOMweb(), study, series, sop)
	return nil
}

// orthancID is Orthanc's own ID of the instance with this SOP Instance
// UID (POST /tools/lookup): what Orthanc Explorer's pages are named by.
func orthancID(ctx context.Context, base, sop string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/tools/lookup", strings.NewReader(sop))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("orthanc lookup: %w", err)
	}
	defer resp.Body.Close()
	var found []struct{ ID, Type string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&found); err != nil {
		return "", fmt.Errorf("orthanc lookup: %w", err)
	}
	for _, f := range found {
		if f.Type == "Instance" {
			return f.ID, nil
		}
	}
	return "", fmt.Errorf("orthanc does not hold the report %s", sop)
}
