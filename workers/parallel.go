package workers

// DefaultGCPercent is the Go GC target a worker runs with unless $GOGC is
// set. A worker allocates ~60 KB per small PNG that dies within the batch
// (mostly image/png's inflate state, which cannot be reused) over a small
// live heap, so Go's default of 100 collects every few hundred images; 400
// cut the GC's share of the CPU from ~7% to ~4% for ~50 MiB more peak RSS
// (docs/benchmarks.md).
const DefaultGCPercent = 400

// Parallelism is how a worker spreads over its cores: batches in flight
// (each with its own model calls) and ONNX Runtime intra-op threads per call.
type Parallelism struct {
	Concurrency, IntraOpThreads int
	// Reason says how the numbers were chosen, for the start-up log.
	Reason string
}

// ChooseParallelism fills in what the configuration leaves at zero.
//
// On the CPU provider the cores are shared out as concurrent single-threaded
// model calls: one batch per core and one intra-op thread per call. A
// multi-threaded call waits for its slowest thread at every operator, so
// when decoding takes a core for a moment the whole call stalls; independent
// calls lose only the moment. Measured on the shipped model (2 cores,
// docs/benchmarks.md): 2 batches × 1 thread ran the pipeline ~12% faster
// than 1 batch × 2 threads. Setting one of the two derives the other from
// cores; setting both takes them as given.
//
// On CUDA the GPU serialises the calls; two batches in flight keep it fed
// while the other one decodes. Threads stay at ONNX Runtime's default.
func ChooseParallelism(provider string, cores, concurrency, threads int) Parallelism {
	cores = max(1, cores)
	if provider == "cuda" {
		if concurrency <= 0 {
			return Parallelism{Concurrency: 2, IntraOpThreads: threads, Reason: "cuda: two batches keep the GPU fed"}
		}
		return Parallelism{Concurrency: concurrency, IntraOpThreads: threads, Reason: "configured"}
	}
	switch {
	case concurrency <= 0 && threads <= 0:
		return Parallelism{Concurrency: cores, IntraOpThreads: 1, Reason: "cpu: one single-threaded batch per core"}
	case concurrency <= 0:
		return Parallelism{Concurrency: max(1, cores/threads), IntraOpThreads: threads, Reason: "cpu: cores / intra-op threads"}
	case threads <= 0:
		return Parallelism{Concurrency: concurrency, IntraOpThreads: max(1, cores/concurrency), Reason: "cpu: cores / concurrency"}
	}
	return Parallelism{Concurrency: concurrency, IntraOpThreads: threads, Reason: "configured"}
}
