package pipeline_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// BenchmarkRedisMemoryPerMillionImages enqueues a job of 256,000 images
// (1,000 batches of 256) into a real redis-server and reports the growth of
// its used_memory per queued task and per million queued images.
func BenchmarkRedisMemoryPerMillionImages(b *testing.B) {
	const images, batch = 256_000, 256
	for i := range b.N {
		addr := redistest.Start(b)
		before := usedMemory(b, addr)
		c := asynq.NewClient(asynq.RedisClientOpt{Addr: addr})
		// Enqueue references as pipeline.Enqueue does, without listing a real archive.
		for n := range images / batch {
			task, err := jobs.NewTask(jobs.Batch{JobID: fmt.Sprintf("mem-%d", i), Index: n,
				OutputURL: "s3://results-bucket?region=eu-west-1", OutputPrefix: "didicm/nightly"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.EnqueueContext(context.Background(), task, asynq.TaskID(jobs.TaskID(fmt.Sprintf("mem-%d", i), n)),
				asynq.MaxRetry(5), asynq.Timeout(pipeline.TaskTimeout)); err != nil {
				b.Fatal(err)
			}
		}
		c.Close()
		grew := usedMemory(b, addr) - before
		b.ReportMetric(float64(grew)/float64(images/batch), "bytes/task")
		b.ReportMetric(float64(grew)/float64(images)*1e6/(1<<20), "MiB/million-images")
	}
}

func usedMemory(b *testing.B, addr string) int64 {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "INFO memory\r\n")
	r := bufio.NewReader(conn)
	header, _ := r.ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(header[1:]))
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			m, _ := strconv.ParseInt(v, 10, 64)
			return m
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}
