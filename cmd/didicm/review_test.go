package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestReviewRefusesAnOpenAddressWithoutAToken(t *testing.T) {
	url, _ := finishedJob(t)
	t.Setenv(reviewTokenEnv, "")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"without --job", []string{"review", "--output", url}, 2},
		{"on every interface without a token", []string{"review", "--job", "rep", "--output", url, "--output-prefix", "out", "--listen", ":0"}, 2},
		{"on a LAN address without a token", []string{"review", "--job", "rep", "--output", url, "--output-prefix", "out", "--listen", "10.0.0.1:8090"}, 2},
		{"with a reviewer name that cannot name a file", []string{"review", "--job", "rep", "--output", url, "--output-prefix", "out", "--reviewer", "../eve"}, 2},
		{"with a token shorter than 16 characters", []string{"review", "--job", "rep", "--output", url, "--output-prefix", "out", "--listen", "127.0.0.1:0", "--reviewer", "ann", "--token", "tok-4f9a1c"}, 2},
		{"for a job that has no review list", []string{"review", "--job", "other", "--output", url, "--output-prefix", "out", "--listen", "127.0.0.1:0", "--reviewer", "ann"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, errs, code := run(t, tc.args...); code != tc.code || strings.Contains(errs, "tok-4f9a1c") {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errs)
			}
		})
	}
}

func TestReviewServesWithTheTokenAndNeverPrintsIt(t *testing.T) {
	url, _ := finishedJob(t)
	const token = "tok-4f9a1c-7e2b9d05"
	t.Setenv(reviewTokenEnv, token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errs strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"review", "--job", "rep", "--output", url, "--output-prefix", "out",
			"--listen", "127.0.0.1:0", "--reviewer", "ann"}, strings.NewReader(""), pw, &errs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no address printed: %v (exit %d: %s)", err, <-code, errs.String())
	}
	addr := regexp.MustCompile(`http://[0-9.:]+/`).FindString(line)
	if addr == "" || strings.Contains(line, token) {
		t.Fatalf("printed %q", line)
	}
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer " + token: 200} {
		req, _ := http.NewRequest("GET", addr, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q: status %d, want %d", auth, resp.StatusCode, want)
		}
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if c := <-code; c != 0 || strings.Contains(errs.String(), token) {
		t.Fatalf("exit %d: %s", c, errs.String())
	}
}
