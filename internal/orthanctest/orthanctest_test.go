package orthanctest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/didicm/didicm/internal/orthanctest"
)

// studies lists the Study Instance UIDs QIDO-RS finds, as user (if set).
func studies(t *testing.T, s *orthanctest.Server, user, pass string) (int, []string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.DICOMweb()+"/studies", nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	var found []struct {
		Study struct{ Value []string } `json:"0020000D"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, f := range found {
		uids = append(uids, f.Study.Value...)
	}
	return resp.StatusCode, uids
}

func TestAnUploadedInstanceOutlivesACrashAndGoesWithItsStudy(t *testing.T) {
	defer http.DefaultClient.CloseIdleConnections()
	s := orthanctest.Start(t, orthanctest.Options{Users: map[string]string{"reader": "s3cret-pass"}})
	data, err := os.ReadFile("../../dicomweb/testdata/corpus/chest-ct-scout-1-explicit")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Upload(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	if code, _ := studies(t, s, "", ""); code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d, want 401", code)
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	_, uids := studies(t, s, "reader", "s3cret-pass")
	if len(uids) != 1 {
		t.Fatalf("after a restart QIDO finds %v, want the one study", uids)
	}
	if err := s.DeleteStudy(context.Background(), uids[0]); err != nil {
		t.Fatal(err)
	}
	if _, uids := studies(t, s, "reader", "s3cret-pass"); len(uids) != 0 {
		t.Fatalf("after the delete QIDO finds %v", uids)
	}
}
