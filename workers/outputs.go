package workers

import (
	"context"
	"errors"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
)

// writeOutputs runs the processor's Outputs (Processor.Outputs: DICOM
// structured reports, exports) on a job just summarised, after its
// report, each reading the finished job as `didicm export --to NAME`
// would. A writer that fails is logged and the others still run; the job
// stays finished (its records and summary stand), and a writer run again
// replaces what it wrote.
func (p *Processor) writeOutputs(ctx context.Context, job *openJob) {
	writers := p.Outputs
	if p.OutputsFor != nil {
		ws, err := p.OutputsFor(job.spec)
		if err != nil {
			p.Log.Warn("job outputs", "job", job.spec.ID, "err", err)
		}
		writers = append(writers[:len(writers):len(writers)], ws...)
	}
	if len(writers) == 0 {
		return
	}
	j, err := output.Open(ctx, job.store)
	if err != nil {
		p.Log.Warn("job outputs", "job", job.spec.ID, "err", err)
		return
	}
	for _, w := range writers {
		err := w.Write(ctx, j)
		switch {
		case errors.Is(err, jobs.ErrParquetResults):
			p.Log.Info("job output not written: the results are Parquet", "job", job.spec.ID, "output", w.Name())
		case err != nil:
			p.Log.Warn("job output", "job", job.spec.ID, "output", w.Name(), "err", err)
		default:
			p.Log.Info("job output written", "job", job.spec.ID, "output", w.Name())
		}
	}
}
