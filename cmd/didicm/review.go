package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/review"
)

// reviewTokenEnv is read when --token is not given, so that the token need
// not show in the process list.
const reviewTokenEnv = "DIDICM_REVIEW_TOKEN"

func (a *app) reviewCmd() *cobra.Command {
	var listen, reviewer, token string
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Serve a finished job's review list to a person, one image at a time",
		Long: `Serve the job's review.jsonl as a web page, most uncertain first (largest prediction
set, then highest normalised entropy; failed images last; the order is fixed when the
server starts), one image at a time with its most probable classes. The page fetches
the list a page at a time, so it opens at once whatever the list's length. Keys: →/j
next, ←/k previous, f first open image, Enter/a accept the prediction, 1-9 pick a shown
class, c pick any of the job's classes, u unsure; click the image for full size.

Each decision is stored before it is acknowledged, in this server's own review session
(reviews/REVIEWER/SESSION-N.jsonl in the job's folder), so two servers for one reviewer
lose nothing. Every reviewer's decisions (and older reviews/NAME.jsonl files) are
merged, the last per image winning; the page sees other reviewers' new decisions as it
fetches the list. Images are decoded two at a time within limits.max_pixels,
limits.max_decoded_bytes and the job's max_bytes. The input bucket is only read.

A loopback --listen address needs no token. Any other address needs --token (or
` + reviewTokenEnv + `) of at least 16 characters, and every request must carry it: open
the page as http://HOST:PORT/?token=TOKEN, or send Authorization: Bearer TOKEN.
Requests from other sites' pages are refused.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j := a.cfg.Job
			if j.ID == "" || j.OutputURL == "" {
				return usageError{errors.New("review needs --job and --output")}
			}
			if token == "" {
				token = os.Getenv(reviewTokenEnv)
			}
			if err := review.CheckListen(listen, token); err != nil {
				return usageError{err}
			}
			if err := review.CheckToken(token); err != nil {
				return usageError{fmt.Errorf("%w (--token or %s)", err, reviewTokenEnv)}
			}
			if err := jobs.ValidReviewer(reviewer); err != nil {
				return usageError{fmt.Errorf("%w (--reviewer)", err)}
			}
			lim := a.cfg.limits()
			lim.MaxBytes, lim.Budget = 0, nil // the job's max_bytes; a budget of max_decoded_bytes
			return a.serveReview(cmd.Context(), j.ref(), listen, review.Config{Reviewer: reviewer, Token: token, Limits: lim, Log: a.log})
		},
	}
	addJobFlags(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "listen address; beyond loopback it needs --token")
	cmd.Flags().StringVar(&reviewer, "reviewer", defaultReviewer(), "your name: decisions go to reviews/NAME/ in the job's folder")
	cmd.Flags().StringVar(&token, "token", "", "a secret every request must carry (default $"+reviewTokenEnv+")")
	return cmd
}

// defaultReviewer is the login name when it can name a reviews file.
func defaultReviewer() string {
	if u := os.Getenv("USER"); jobs.ValidReviewer(u) == nil {
		return u
	}
	return ""
}

// serveReview serves the job's review page until ctx ends.
func (a *app) serveReview(ctx context.Context, ref jobs.Ref, listen string, cfg review.Config) error {
	store, err := jobs.OpenStore(ctx, ref)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg.Store = store
	srv, err := review.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	page := fmt.Sprintf("http://%s/", ln.Addr())
	if cfg.Token != "" {
		page += "?token=<your token>"
	}
	fmt.Fprintf(a.stdout, "job %s: review as %s at %s\n", ref.ID, cfg.Reviewer, page)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
