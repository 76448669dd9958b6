package dicomweb_test

import (
	"errors"
	"testing"

	"github.com/didicm/didicm/dicomweb"
)

func TestAKeyRoundTripsAndNamesOnlyAnInstance(t *testing.T) {
	k := dicomweb.Key{Study: "1.2.840.1", Series: "1.2.840.1.2", Instance: "1.2.840.1.2.3"}
	got, err := dicomweb.ParseKey(k.String())
	if err != nil || got != k {
		t.Fatalf("%s parsed as %+v, %v", k, got, err)
	}
	for _, s := range []string{
		"", "studies/1/series/2", "studies/1/series/2/instances/", "studies/1/series/2/instances/3/frames/1",
		"studies/../series/2/instances/3", "studies/1/series/2/instances/3?x=1", "studies/1/series/2/instances/a b",
		"series/1/studies/2/instances/3", "studies/1/series/2/instances/" + string(make([]byte, 129)),
	} {
		if _, err := dicomweb.ParseKey(s); !errors.Is(err, dicomweb.ErrBadKey) {
			t.Errorf("%q: %v", s, err)
		}
	}
}
