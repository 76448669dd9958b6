package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// ServerConfig configures a worker process.
type ServerConfig struct {
	Redis asynq.RedisConnOpt
	// Concurrency is batches in flight (see ChooseParallelism). Zero means 1.
	Concurrency int
	// Queues with priorities. Nil means {"default": 1}.
	Queues map[string]int
	// ShutdownTimeout is how long SIGTERM waits for in-flight batches before
	// handing them back to the queue. Zero means 30 s.
	ShutdownTimeout time.Duration
	// MetricsAddr serves /metrics and /healthz, e.g. ":9090". Empty means off.
	MetricsAddr string
	// RetryBase and RetryMax bound the exponential backoff between attempts.
	// Zero means 10 s and 10 min.
	RetryBase, RetryMax time.Duration
	// LostCheck is how often the worker looks, while a job's queue has nothing pending,
	// for batches of the jobs it served that Redis lost (lostWatch). Zero
	// means 30 s.
	LostCheck time.Duration
	// RedriveLost queues lost batches again; false only reports them (a
	// warning in the log and didicm_lost_batches).
	RedriveLost bool
}

// Serve runs the Asynq server until ctx is done, then shuts down gracefully.
// It returns an error at once when Redis cannot be reached.
func Serve(ctx context.Context, cfg ServerConfig, proc *Processor, reg *prometheus.Registry, log *slog.Logger) error {
	cfg = cfg.withDefaults()
	ping := asynq.NewClient(cfg.Redis)
	err := ping.Ping() // asynq's Server.Start does not check: fail at start-up, not later
	_ = ping.Close()
	if err != nil {
		return fmt.Errorf("redis unreachable: %w", err)
	}
	srv := asynq.NewServer(cfg.Redis, cfg.asynqConfig(log))
	mux := asynq.NewServeMux()
	mux.Handle(jobs.TypeBatch, proc)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	insp := asynq.NewInspector(cfg.Redis)
	defer insp.Close()
	httpSrv, err := serveMetrics(cfg.MetricsAddr, handler(reg, insp), log)
	if err != nil {
		srv.Shutdown()
		return err
	}
	log.Info("worker started", "name", proc.Name, "concurrency", cfg.Concurrency, "queues", cfg.Queues,
		"lost_check", cfg.LostCheck, "redrive_lost", cfg.RedriveLost)
	depth := newDepthLoop(insp, cfg.Queues, proc.Metrics, log)
	depth.Start(ctx)
	client := asynq.NewClient(cfg.Redis) // for re-queueing lost batches
	defer client.Close()
	watch := newLostWatch(proc, pipeline.Queue{Client: client, Inspector: insp, Tracker: proc.Tracker}, cfg.LostCheck,
		cfg.RedriveLost, log)
	watch.Start(ctx)
	<-ctx.Done()
	log.Info("worker stopping: finishing in-flight batches", "timeout", cfg.ShutdownTimeout)
	depth.Stop()
	watch.Stop()
	srv.Shutdown() // unfinished tasks go back to the queue
	if httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(sctx)
	}
	log.Info("worker stopped")
	return nil
}

func (cfg ServerConfig) withDefaults() ServerConfig {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Queues == nil {
		cfg.Queues = map[string]int{"default": 1}
	}
	cfg.ShutdownTimeout = orDuration(cfg.ShutdownTimeout, 30*time.Second)
	cfg.RetryBase = orDuration(cfg.RetryBase, 10*time.Second)
	cfg.RetryMax = orDuration(cfg.RetryMax, 10*time.Minute)
	cfg.LostCheck = orDuration(cfg.LostCheck, 30*time.Second)
	return cfg
}

// asynqConfig is the Asynq server's configuration: exponential backoff
// between attempts, logs through slog.
func (cfg ServerConfig) asynqConfig(log *slog.Logger) asynq.Config {
	base, maxDelay := cfg.RetryBase, cfg.RetryMax
	return asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          cfg.Queues,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          asynqLogger{log},
		LogLevel:        asynq.WarnLevel,
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration {
			return time.Duration(math.Min(float64(maxDelay), float64(base)*math.Pow(2, float64(n))))
		},
	}
}

// serveMetrics serves h on addr in the background; empty addr serves nothing.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	log.Info("metrics and health", "addr", ln.Addr().String())
	return srv, nil
}

func handler(reg *prometheus.Registry, insp *asynq.Inspector) http.Handler {
	m := http.NewServeMux()
	m.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := insp.Queues(); err != nil {
			http.Error(w, "redis: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return m
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// depthLoop samples queue depth into the metrics every 5 s.
type depthLoop struct {
	insp   *asynq.Inspector
	queues map[string]int
	m      *Metrics
	log    *slog.Logger
	stop   chan struct{}
	done   chan struct{}
}

func newDepthLoop(insp *asynq.Inspector, queues map[string]int, m *Metrics, log *slog.Logger) *depthLoop {
	return &depthLoop{insp: insp, queues: queues, m: m, log: log, stop: make(chan struct{}), done: make(chan struct{})}
}

func (d *depthLoop) Start(ctx context.Context) {
	go func() {
		defer close(d.done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			d.runOnce()
			select {
			case <-ctx.Done():
				return
			case <-d.stop:
				return
			case <-t.C:
			}
		}
	}()
}

func (d *depthLoop) Stop() {
	close(d.stop)
	<-d.done
}

func (d *depthLoop) runOnce() {
	for q := range d.queues {
		info, err := d.insp.GetQueueInfo(q)
		if err != nil {
			continue // the queue exists only once something was enqueued
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "retry": info.Retry,
			"archived": info.Archived, "scheduled": info.Scheduled} {
			d.m.QueueDepth.WithLabelValues(q, state).Set(float64(n))
		}
	}
}

// asynqLogger routes Asynq's logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
