package dicomweb_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/internal/orthanctest"
)

// storeClient is a client of root with these credentials.
func storeClient(t *testing.T, root string, c dicomweb.Credentials) *dicomweb.Client {
	t.Helper()
	cl, err := dicomweb.NewClient(dicomweb.Config{Base: root, Rate: -1, Credentials: &c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// instancesOf lists a series' SOP instance UIDs through QIDO-RS.
func instancesOf(t *testing.T, c *dicomweb.Client, e entry) []string {
	t.Helper()
	var uids []string
	err := c.SearchInstances(context.Background(), e.Study, e.Series, dicomweb.Query{}, func(m dicomweb.Match) error {
		uids = append(uids, m.String(dicomweb.TagSOPInstanceUID))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uids
}

func TestStoredInstancesAreFoundAndStoringAgainKeepsOne(t *testing.T) {
	o := orthanctest.Start(t, orthanctest.Options{})
	c := storeClient(t, o.DICOMweb(), dicomweb.Credentials{})
	a, b := corpusEntry(t, "chest-ct-axial-1-explicit"), corpusEntry(t, "chest-ct-axial-2-implicit")
	for round := 1; round <= 2; round++ {
		res, err := c.StoreInstances(context.Background(), a.Study, a.data, b.data)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !slices.Contains(res.Stored, a.SOP) || !slices.Contains(res.Stored, b.SOP) || len(res.Failed) != 0 {
			t.Fatalf("round %d: %+v", round, res)
		}
		got := instancesOf(t, c, a)
		slices.Sort(got)
		want := []string{a.SOP, b.SOP}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: the series holds %v, want %v", round, got, want)
		}
	}
}

func TestAnInstanceOfAnotherStudyOrNoDICOMIsRefused(t *testing.T) {
	o := orthanctest.Start(t, orthanctest.Options{})
	c := storeClient(t, o.DICOMweb(), dicomweb.Credentials{})
	a, other := corpusEntry(t, "chest-ct-axial-1-explicit"), corpusEntry(t, "head-mr-t1-1-explicit")
	_, err := c.StoreInstances(context.Background(), other.Study, a.data)
	if !errors.Is(err, dicomweb.ErrStoreFailed) {
		t.Fatalf("an instance of another study: %v", err)
	}
	_, err = c.StoreInstances(context.Background(), "", []byte("not a DICOM file"))
	var se *dicomweb.StatusError
	if !errors.Is(err, dicomweb.ErrStoreFailed) && !errors.As(err, &se) {
		t.Fatalf("not DICOM: %v", err)
	}
	if got := instancesOf(t, c, a); len(got) != 0 {
		t.Fatalf("the refused instance is there: %v", got)
	}
}

func TestStoringNeedsTheServicesCredentialsAndNeverShowsThem(t *testing.T) {
	const pass = "st0w-secret-pass"
	o := orthanctest.Start(t, orthanctest.Options{Users: map[string]string{"writer": pass}})
	e := corpusEntry(t, "chest-cr-pa-1-explicit")
	_, err := storeClient(t, o.DICOMweb(), dicomweb.Credentials{Username: "writer", Password: "wrong-" + pass}).
		StoreInstances(context.Background(), e.Study, e.data)
	if !errors.Is(err, dicomweb.ErrUnauthorized) {
		t.Fatalf("a wrong password: %v", err)
	}
	noSecret(t, err, pass)
	c := storeClient(t, o.DICOMweb(), dicomweb.Credentials{Username: "writer", Password: pass})
	if _, err := c.StoreInstances(context.Background(), e.Study, e.data); err != nil {
		t.Fatal(err)
	}
	if got := instancesOf(t, c, e); !slices.Equal(got, []string{e.SOP}) {
		t.Fatalf("stored %v", got)
	}
}
