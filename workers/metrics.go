package workers

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the worker's Prometheus series.
type Metrics struct {
	Images     *prometheus.CounterVec // result: ok or error
	Batches    *prometheus.CounterVec // result: ok, retry, failed
	NFE        prometheus.Counter
	Stage      *prometheus.HistogramVec // stage: fetch, prepare, score, write
	QueueDepth *prometheus.GaugeVec     // queue, state: pending, active, retry, archived
	// LostBatches is, per job this worker served, the batches found with
	// no results and no task in Redis while nothing was queued (lostWatch).
	LostBatches *prometheus.GaugeVec // job_id
	Redriven    prometheus.Counter   // lost batches this worker queued again
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Images: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "didicm_images_total",
			Help: "Images processed, by result (ok, error)."}, []string{"result"}),
		Batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "didicm_batches_total",
			Help: "Batch attempts, by result (ok, retry, failed)."}, []string{"result"}),
		NFE: prometheus.NewCounter(prometheus.CounterOpts{Name: "didicm_nfe_total",
			Help: "Model calls per image, summed over images."}),
		Stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "didicm_stage_seconds",
			Help: "Time per batch spent in each stage.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}, []string{"stage"}),
		QueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "didicm_queue_tasks",
			Help: "Tasks in the queue, by state."}, []string{"queue", "state"}),
		LostBatches: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "didicm_lost_batches",
			Help: "Batches of a job this worker served that have no results and no task in Redis (lost with Redis data): the job stalls until they are queued again."},
			[]string{"job_id"}),
		Redriven: prometheus.NewCounter(prometheus.CounterOpts{Name: "didicm_redriven_batches_total",
			Help: "Lost batches this worker queued again (worker.redrive_lost)."}),
	}
	reg.MustRegister(m.Images, m.Batches, m.NFE, m.Stage, m.QueueDepth, m.LostBatches, m.Redriven)
	return m
}
