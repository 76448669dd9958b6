// Package orthanctest runs a real Orthanc for tests: Debian 12's orthanc
// with its DICOMweb plugin (packages orthanc and orthanc-dicomweb), on a
// free loopback port, with a storage folder of its own, stopped when the
// test ends. As internal/redistest does for redis-server.
package orthanctest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Plugin is the DICOMweb plugin Debian's orthanc-dicomweb installs.
const Plugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

// Options shape the server.
type Options struct {
	// Users, when set, turns on HTTP basic authentication with these
	// user → password pairs; the helpers use the first user in key order.
	Users map[string]string
	// Settings are more configuration keys, over the harness's (for
	// instance "LimitFindInstances": 2).
	Settings map[string]any
}

// Server is a running Orthanc.
type Server struct {
	// URL is its REST API, http://127.0.0.1:PORT.
	URL string

	dir, config string
	user, pass  string
	client      *http.Client

	mu   sync.Mutex
	proc *process // nil while stopped
}

// Start runs an Orthanc for the test and stops it at the test's end. It
// fails the test when Orthanc or its plugin is missing (scripts/setup.sh
// installs them).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// New runs an Orthanc; Close stops it and removes its storage. For a
// package's TestMain, where there is no testing.TB.
func New(opts Options) (*Server, error) {
	if _, err := exec.LookPath("Orthanc"); err != nil {
		return nil, fmt.Errorf("orthanctest: Orthanc not found (scripts/setup.sh installs orthanc): %w", err)
	}
	if _, err := os.Stat(Plugin); err != nil {
		return nil, fmt.Errorf("orthanctest: DICOMweb plugin missing (scripts/setup.sh installs orthanc-dicomweb): %w", err)
	}
	dir, err := os.MkdirTemp("", "orthanctest-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, config: filepath.Join(dir, "orthanc.json"),
		client: &http.Client{Timeout: time.Minute}}
	for _, u := range slices.Sorted(maps.Keys(opts.Users)) {
		s.user, s.pass = u, opts.Users[u]
		break
	}
	if err := writeConfig(s.config, dir, port, opts); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := s.Start(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return s, nil
}

// DICOMweb is the root of its DICOMweb services.
func (s *Server) DICOMweb() string { return s.URL + "/dicom-web" }

// Start starts Orthanc again after Stop or Kill, on the same port with the
// same storage: what it held, it holds again. It returns once Orthanc has
// logged that it started; it does nothing while Orthanc runs.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return nil
	}
	p, err := startProcess(s.config)
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// Restart stops Orthanc as an operator would (SIGTERM: Orthanc 1.10 takes
// about 2.5 s to stop) and starts it again.
func (s *Server) Restart() error {
	return errors.Join(s.Stop(), s.Start())
}

// Stop stops Orthanc with SIGTERM (SIGKILL after 20 s); its storage stays.
func (s *Server) Stop() error { return s.end(syscall.SIGTERM) }

// Kill stops Orthanc as a crash would (SIGKILL); its storage stays.
func (s *Server) Kill() error { return s.end(syscall.SIGKILL) }

func (s *Server) end(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(sig)
	s.proc = nil
	return err
}

// Close kills Orthanc and removes its storage.
func (s *Server) Close() error {
	return errors.Join(s.Kill(), os.RemoveAll(s.dir))
}

func writeConfig(path, dir string, port int, opts Options) error {
	cfg := map[string]any{
		"Name": "didicm-test", "StorageDirectory": filepath.Join(dir, "db"), "IndexDirectory": filepath.Join(dir, "db"),
		"HttpPort": port, "DicomServerEnabled": false, "RemoteAccessAllowed": false, "SaveJobs": false,
		"AuthenticationEnabled": len(opts.Users) > 0, "RegisteredUsers": opts.Users,
		"Plugins":  []string{Plugin},
		"DicomWeb": map[string]any{"Enable": true, "Root": "/dicom-web/"},
	}
	if opts.Users == nil {
		cfg["RegisteredUsers"] = map[string]string{}
	}
	for k, v := range opts.Settings {
		cfg[k] = v
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is one run of the Orthanc binary.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once it has exited and its output is read
	mu     sync.Mutex
	tail   []string // its last log lines
}

// startTimeout bounds a start: Orthanc logs "Orthanc has started" within
// a second or two here.
const startTimeout = 60 * time.Second

func startProcess(config string) (*process, error) {
	pr, pw := io.Pipe()
	cmd := exec.Command("Orthanc", config)
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &process{cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("orthanctest: start Orthanc: %w", err)
	}
	started := make(chan struct{})
	go p.read(pr, started)
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
	}()
	select {
	case <-started:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("orthanctest: Orthanc exited while starting: %s", p.log())
	case <-time.After(startTimeout):
		return nil, errors.Join(fmt.Errorf("orthanctest: Orthanc did not start in %s: %s", startTimeout, p.log()), p.stop(syscall.SIGKILL))
	}
}

// read keeps Orthanc's last log lines, signals its start, and closes
// exited at the end of its output (it has exited).
func (p *process) read(r io.Reader, started chan struct{}) {
	defer close(p.exited)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > 40 {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
		if started != nil && strings.Contains(line, "Orthanc has started") {
			close(started)
			started = nil
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// stop sends sig and waits for the exit; SIGKILL after 20 s.
func (p *process) stop(sig syscall.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("orthanctest: stop Orthanc: %w", err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("orthanctest: Orthanc ignored SIGTERM for 20 s: %s", p.log())
	}
}

// Upload stores one DICOM instance through Orthanc's REST API.
func (s *Server) Upload(ctx context.Context, data []byte) error {
	_, err := s.call(ctx, http.MethodPost, "/instances", data)
	return err
}

// DeleteStudy deletes a study, found by its Study Instance UID.
func (s *Server) DeleteStudy(ctx context.Context, studyUID string) error {
	body, err := s.call(ctx, http.MethodPost, "/tools/lookup", []byte(studyUID))
	if err != nil {
		return err
	}
	var found []struct{ ID, Type string }
	if err := json.Unmarshal(body, &found); err != nil {
		return fmt.Errorf("orthanctest: lookup %s: %w", studyUID, err)
	}
	for _, f := range found {
		if f.Type == "Study" {
			_, err := s.call(ctx, http.MethodDelete, "/studies/"+f.ID, nil)
			return err
		}
	}
	return fmt.Errorf("orthanctest: no study %s", studyUID)
}

func (s *Server) call(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("orthanctest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("orthanctest: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("orthanctest: %s %s: %s: %s", method, path, resp.Status, out)
	}
	return out, nil
}
