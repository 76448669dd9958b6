package dicomweb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/internal/orthanctest"
)

// pacs is the Orthanc every read-only test shares, holding the corpus. A
// test that changes what it holds puts it back before it ends.
var pacs *orthanctest.Server

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	srv, err := orthanctest.New(orthanctest.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, e := range loadCorpus() {
		if err == nil {
			err = srv.Upload(context.Background(), e.data)
		}
	}
	code := 1
	if err == nil {
		pacs = srv
		code = m.Run()
	}
	if err = errors.Join(err, srv.Close()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/hibiken/asynq/internal/rdb.(*RDB).ClearServerState")); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

// entry is one corpus instance (testdata/corpus.json, written by
// testdata/make-corpus.py).
type entry struct {
	File           string `json:"file"`
	Study, Series  string
	SOP            string `json:"sop"`
	TransferSyntax string `json:"transfer_syntax"`
	Frames         int    `json:"frames"`
	Modality       string `json:"modality"`
	data           []byte
}

func (e entry) key() string {
	return dicomweb.Key{Study: e.Study, Series: e.Series, Instance: e.SOP}.String()
}

func loadCorpus() []entry {
	raw, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		panic(err)
	}
	var es []entry
	if err := json.Unmarshal(raw, &es); err != nil {
		panic(err)
	}
	for i := range es {
		if es[i].data, err = os.ReadFile(filepath.Join("testdata", es[i].File)); err != nil {
			panic(err)
		}
	}
	return es
}

// corpusKeys are the keys of the entries that pass keep, sorted.
func corpusKeys(keep func(entry) bool) []string {
	var out []string
	for _, e := range loadCorpus() {
		if keep(e) {
			out = append(out, e.key())
		}
	}
	slices.Sort(out)
	return out
}

// corpusFile names the file of a corpus entry, for finding its UIDs.
func corpusEntry(t testing.TB, name string) entry {
	t.Helper()
	for _, e := range loadCorpus() {
		if filepath.Base(e.File) == name {
			return e
		}
	}
	t.Fatalf("no corpus file %s", name)
	return entry{}
}

// sourceURL is a dicomweb+http URL of root with a query, without a rate
// limit unless the query sets one.
func sourceURL(root, query string) string {
	if !strings.Contains(query, "rate=") {
		query = strings.TrimPrefix(query+"&rate=0", "&")
	}
	return "dicomweb+" + root + "?" + query
}
