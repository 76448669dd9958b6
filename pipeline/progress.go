package pipeline

import "time"

// The stages a Producer reports.
const (
	StageList  = "list"  // Done: keys listed so far (Total unknown)
	StageQueue = "queue" // Done: batches handled of Total
)

// EnqueueProgress is a producer's report on one stage.
type EnqueueProgress struct {
	Stage string
	// Done is how many keys (list) or batches (queue) are handled; Total
	// is how many there are, 0 while unknown.
	Done, Total int
	// Elapsed is the stage's time so far; Final marks its last report,
	// and Stopped a stage that ended before it was through (an error or
	// a cancelled context).
	Elapsed time.Duration
	Final   bool
	Stopped bool
}

// Rate is Done per second of Elapsed.
func (p EnqueueProgress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// reporter counts a stage and calls the producer's Progress at most once
// per interval. A nil reporter (no Progress) counts nothing.
type reporter struct {
	fn          func(EnqueueProgress)
	every       time.Duration
	p           EnqueueProgress
	start, last time.Time
}

func (p Producer) reporter(stage string, total int) *reporter {
	if p.Progress == nil {
		return nil
	}
	every := p.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	now := time.Now()
	return &reporter{fn: p.Progress, every: every, p: EnqueueProgress{Stage: stage, Total: total}, start: now, last: now}
}

func (r *reporter) add(n int) {
	if r == nil {
		return
	}
	r.p.Done += n
	if r.p.Done%256 != 0 && n == 1 {
		return // look at the clock every 256 items
	}
	if now := time.Now(); now.Sub(r.last) >= r.every {
		r.last = now
		r.p.Elapsed = now.Sub(r.start)
		r.fn(r.p)
	}
}

// finish makes the stage's last report: stopped unless *err is nil (a
// pointer, for a deferred call to see the function's result).
func (r *reporter) finish(err *error) {
	if r == nil {
		return
	}
	r.p.Elapsed, r.p.Final, r.p.Stopped = time.Since(r.start), true, *err != nil
	r.fn(r.p)
}

// done is how many items the stage handled so far.
func (r *reporter) done() int {
	if r == nil {
		return 0
	}
	return r.p.Done
}
