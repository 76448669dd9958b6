// Package s3test serves the S3 protocol on a loopback port (gofakes3 over
// net/http), so tests exercise the s3:// path of gocloud end to end.
package s3test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Start serves an S3 endpoint with bucket created and returns its
// gocloud URL. Credentials are set in the test's environment.
func Start(t testing.TB, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=us-east-1", bucket, srv.URL)
}
