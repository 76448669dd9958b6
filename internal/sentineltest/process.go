package sentineltest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is one redis-server or redis-sentinel process.
type server struct {
	name, addr, log string
	cmd             *exec.Cmd
	exited          chan struct{} // closed when the process is gone
}

// startServer runs bin with args on a free loopback port, logging to a file
// in dir, and stops it when the test ends. configFile, when set, is written
// first and passed as the first argument (Sentinels must have one: they
// rewrite it).
func startServer(t testing.TB, dir, name, bin string, configFile string, args ...string) *server {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s not found (scripts/setup.sh installs it): %v", bin, err)
	}
	port := freePort(t)
	s := &server{name: name, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: filepath.Join(dir, name+".log"),
		exited: make(chan struct{})}
	var argv []string
	if configFile != "" {
		conf := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(conf, []byte(configFile), 0o600); err != nil {
			t.Fatal(err)
		}
		argv = append(argv, conf)
	}
	argv = append(argv, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--logfile", s.log)
	s.cmd = exec.Command(path, append(argv, args...)...)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.kill)
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// logTail is the end of the server's log, for a failed test's output.
func (s *server) logTail() string {
	data, _ := os.ReadFile(s.log)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// client connects to the server; password may be empty.
func (s *server) client(password string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.addr, Password: password, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
}

// up waits until the server answers PING (or asks for a password).
func (s *server) up(ctx context.Context) error {
	c := s.client("")
	defer c.Close()
	return poll(ctx, s.name+" answers PING", func() (bool, string) {
		err := c.Ping(ctx).Err()
		if err != nil && strings.Contains(err.Error(), "NOAUTH") {
			return true, ""
		}
		select {
		case <-s.exited:
			return false, "exited: " + s.logTail()
		default:
		}
		return err == nil, fmt.Sprint(err)
	})
}

// poll calls cond every 20 ms until it holds or ctx is done; the error
// names the condition and what cond said last.
func poll(ctx context.Context, what string, cond func() (bool, string)) error {
	t := time.NewTicker(20 * time.Millisecond) // these servers have no change signal to wait on
	defer t.Stop()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return nil
		}
		last = state
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w (last: %s)", what, ctx.Err(), last)
		case <-t.C:
		}
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// info reads one section of INFO as key → value.
func info(ctx context.Context, c *redis.Client, section string) (map[string]string, error) {
	raw, err := c.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(raw, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m, nil
}
