package workers

import (
	"context"
	"errors"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
)

// writeGroups writes a summarised job's answers per study and series and
// the events and timelines of its videos and logs (output.Studies), before
// its report, which shows them. It reads the job's records (twice when it
// has studies); a failure is logged and leaves the summary standing, and
// `didicm export --to studies` writes them again on the finished job.
func (p *Processor) writeGroups(ctx context.Context, job *openJob) {
	j, err := output.Open(ctx, job.store)
	if err == nil && j.Summary.Grouped == 0 && j.Summary.Images > 0 {
		return // no study, video or log: nothing to group, no need to read every record again
	}
	if err == nil {
		err = output.Studies{}.Write(ctx, j)
	}
	switch {
	case errors.Is(err, jobs.ErrParquetResults):
		p.Log.Info("no answers per study or events: the results are Parquet", "job", job.spec.ID)
	case err != nil:
		p.Log.Warn("job groups", "job", job.spec.ID, "err", err)
	default:
		p.Log.Info("job groups written", "job", job.spec.ID, "studies", job.store.Layout().Group(jobs.StudiesFile))
	}
}
