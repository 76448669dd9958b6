package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/sampler"
)

func (a *app) classifyCmd() *cobra.Command {
	var format string
	var batch, topK int
	cmd := &cobra.Command{
		Use:   "classify PATH...",
		Short: "Classify image files or folders (recursively); one record per image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "jsonl" {
				return usageError{fmt.Errorf("--format %q: want table or jsonl", format)}
			}
			if err := errors.Join(positive("--batch", batch, 1, 1<<16), positive("--top-k", topK, 0, 1<<20)); err != nil {
				return usageError{err}
			}
			files, err := listFiles(args)
			if err != nil {
				return usageError{err}
			}
			eng, m, err := a.engine(topK, batch)
			if err != nil {
				return err
			}
			defer m.Close()
			w := newRecordWriter(a.stdout, format)
			err = classifyFiles(cmd.Context(), eng, files, batch, w.write)
			if ferr := w.flush(); err == nil {
				err = ferr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", "output: table or jsonl")
	f.IntVar(&batch, "batch", 64, "images read and scored together")
	f.IntVar(&topK, "top-k", 0, "keep only the k most probable classes in records (0: all K)")
	addSamplerFlags(f)
	addSamplingFlags(f)
	return cmd
}

func addSamplerFlags(f *pflag.FlagSet) {
	configFlag(f, "model", "model", "model file (default "+DefaultModel+")")
	configFlag(f, "calibration", "calibration", "calibration file (didicm calibrate): records get prediction sets")
	configFlag(f, "sampler.name", "sampler", "auto (planner), cp or cl; a classifier model uses softmax")
	configFlag(f, "sampler.steps", "steps", fmt.Sprintf("diffusion steps T (0: the model's recommendation, else %d)", sampler.DefaultSteps))
	configFlag(f, "sampler.force_steps", "force-steps", "run below the model's minimum T")
	configFlag(f, "sampler.clamp", "clamp", "CP's clamp after each step: paper (clip to [0,1], the paper's code) or negatives")
	configFlag(f, "sampler.settle", "settle", "CP adaptive steps: stop an image once a step moves its posterior by at most this (0: off)")
	configFlag(f, "sampler.chains", "chains", "CL chains N")
	configFlag(f, "sampler.seed", "seed", "CL random seed")
	configFlag(f, "sampler.micro_batch", "micro-batch", "images (CP) or chain rows (CL) per model call (0: planner)")
	configFlag(f, "sampler.memory_budget", "memory-budget", "memory the sampler and model calls may use")
}

// engine opens the configured model and builds the engine, with the sampler
// from the configuration or, for "auto", from the planner.
func (a *app) engine(topK, batch int) (*classify.Engine, *ort.Model, error) {
	m, err := a.openModel(a.cfg)
	if err != nil {
		return nil, nil, err
	}
	sc := a.cfg.Sampler
	steps, err := a.cfg.steps(m.Metadata())
	if err != nil {
		_ = m.Close() // the error that brought us here is the one to report
		return nil, nil, err
	}
	sha, _, _ := m.Identity()
	cal, err := a.cfg.loadCalibration(sha, m.NumClasses())
	if err != nil {
		_ = m.Close() // the calibration error is the one to report
		return nil, nil, err
	}
	opts := classify.Options{Calibration: cal, Sampler: sc.Name, Steps: steps, Clamp: sampler.Clamp(sc.Clamp), Settle: sc.Settle, Chains: sc.Chains, MicroBatch: sc.MicroBatch,
		Seed: sc.Seed, TopK: topK, Limits: a.cfg.limits(), Sampling: imaging.Sampling{MaxFrames: a.cfg.Limits.MaxFrames,
			Every: a.cfg.sampling().Step(), KeyframesOnly: a.cfg.Video.KeyframesOnly, Topics: a.cfg.MCAP.Topics}}
	if m.Metadata().Kind == modelmeta.Score {
		p, err := plan.Decide(plan.Request{NumClasses: m.NumClasses(), Images: batch, Steps: steps, Chains: sc.Chains,
			Budget: size(sc.MemoryBudget), InputBytes: int64(4 * m.Metadata().InputSize()), Force: sc.Name})
		if err != nil {
			_ = m.Close() // the error that brought us here is the one to report
			return nil, nil, err
		}
		opts.Sampler = p.Sampler
		if opts.MicroBatch == 0 {
			opts.MicroBatch = p.MicroBatch
		}
		a.log.Debug("sampler planned", "sampler", p.Sampler, "micro_batch", p.MicroBatch, "reasons", p.Reasons)
	}
	eng, err := classify.New(m, opts)
	if err != nil {
		_ = m.Close() // the error that brought us here is the one to report
		return nil, nil, err
	}
	return eng, m, nil
}

// listed is a file to classify, or a folder that could not be read (its
// error becomes that entry's error record).
type listed struct {
	path string
	err  error
}

// listFiles expands folders recursively, sorted, skipping hidden entries.
// A path on the command line that does not exist is an error; anything
// unreadable below it is an entry with its error, so one bad folder does not
// stop the run.
func listFiles(paths []string) ([]listed, error) {
	var files []listed
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, listed{path: p})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				files = append(files, listed{path: path, err: err})
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if path != p && len(d.Name()) > 0 && d.Name()[0] == '.' {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, listed{path: path})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

// classifyFiles reads and decodes batch n+1 while batch n is being scored.
func classifyFiles(ctx context.Context, eng *classify.Engine, files []listed, batch int, emit func(classify.Record) error) error {
	maxBytes := eng.Options().Limits.MaxBytes
	if maxBytes <= 0 {
		maxBytes = imaging.DefaultMaxBytes
	}
	_, err := eng.Stream(ctx, len(files), batch, func(_ context.Context, i int) classify.Item {
		return readFile(files[i], maxBytes)
	}, emit)
	return err
}

// readFile reads a listed file whole, or above maxBytes in pieces (a
// video or log is read so; imaging refuses anything else that large).
func readFile(f listed, maxBytes int64) classify.Item {
	it := classify.Item{Key: recordkey.Of(f.path).String(), Err: f.err}
	if it.Err != nil {
		return it
	}
	st, err := os.Stat(f.path)
	if err != nil {
		it.Err = err
		return it
	}
	if st.Size() > maxBytes {
		it.Src = &fileSource{path: f.path, size: st.Size()}
		return it
	}
	it.Data, it.Err = os.ReadFile(f.path)
	return it
}

// fileSource reads a file in pieces, opening it for each read so that
// nothing is left open when the engine is done with it.
type fileSource struct {
	path string
	size int64
}

func (f *fileSource) Size() int64 { return f.size }

func (f *fileSource) ReadAt(p []byte, off int64) (int, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	return fh.ReadAt(p, off)
}

type recordWriter struct {
	w      io.Writer
	jsonl  bool
	line   []byte // jsonl: the record being written, reused
	tw     *tabwriter.Writer
	n, bad int
}

func newRecordWriter(w io.Writer, format string) *recordWriter {
	rw := &recordWriter{w: w}
	if format == "jsonl" {
		rw.jsonl = true
		return rw
	}
	rw.tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(rw.tw, "KEY\tCLASS\tP(MAX)\tMARGIN\tH/logK\tSAMPLER\tNFE\tERROR")
	return rw
}

func (rw *recordWriter) write(r classify.Record) error {
	rw.n++
	if r.Error != "" {
		rw.bad++
	}
	if rw.jsonl {
		return rw.writeLine(&r)
	}
	if r.Error != "" {
		_, err := fmt.Fprintf(rw.tw, "%s\t-\t-\t-\t-\t%s\t%d\t%s\n", printable(r.Key), r.Sampler, r.NFE, printable(r.Error))
		return err
	}
	_, err := fmt.Fprintf(rw.tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t%s\t%d\t\n", printable(r.Key), printable(r.Class), r.MaxProb, r.Margin,
		r.EntropyNorm, r.Sampler, r.NFE)
	return err
}

// writeLine writes r as one JSON line (classify.Record.AppendJSON), in one
// Write as encoding/json's Encoder did.
func (rw *recordWriter) writeLine(r *classify.Record) error {
	line, err := r.AppendJSON(rw.line[:0])
	if err != nil {
		return err
	}
	rw.line = append(line, '\n')
	_, err = rw.w.Write(rw.line)
	return err
}

// printable escapes control characters (a newline or an escape sequence in
// a file name) so that a name cannot break or restyle the table.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func (rw *recordWriter) flush() error {
	if rw.tw == nil {
		return nil
	}
	fmt.Fprintf(rw.tw, "\n%s, %s\n", plural(rw.n, "image"), plural(rw.bad, "error"))
	return rw.tw.Flush()
}
