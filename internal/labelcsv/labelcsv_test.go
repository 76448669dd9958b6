package labelcsv

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string) ([]Row, string, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		return nil, "", err
	}
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, r.LabelColumn, nil
		}
		if err != nil {
			return rows, r.LabelColumn, err
		}
		rows = append(rows, row)
	}
}

func TestRowsTakeKeyAndLabelAndIgnoreOtherColumns(t *testing.T) {
	for _, tc := range []struct {
		name, in, column string
		want             []Row
	}{
		{"a key,label header", "key,label\na.png,cat\n", "label", []Row{{2, "a.png", "cat"}}},
		{"more columns in any order", "site,Label , KEY\nnorth, cat ,a.png\n", "label", []Row{{2, "a.png", "cat"}}},
		{"a class_index column", "key,class_index,reader\na.png,3,ana\n", "class_index", []Row{{2, "a.png", "3"}}},
		{"no header: the first two columns", "a.png,cat,north\nb.png,dog,south\n", "", []Row{{1, "a.png", "cat"}, {2, "b.png", "dog"}}},
		{"a byte-order mark before the header", "\ufeffkey,label\na.png,cat\n", "label", []Row{{2, "a.png", "cat"}}},
		{"a quoted key with a comma", "key,label\n\"a,b.png\",cat\n", "label", []Row{{2, "a,b.png", "cat"}}},
		{"nothing at all", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, column, err := readAll(t, tc.in)
			if err != nil || column != tc.column || !slices.Equal(rows, tc.want) {
				t.Fatalf("rows %v, column %q, %v; want %v, %q", rows, column, err, tc.want, tc.column)
			}
		})
	}
}

func TestMalformedFilesAreRefused(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"one column", "a.png\n", "want key and label"},
		{"a header without a label column", "key,site\na.png,north\n", "needs a label column"},
		{"a row shorter than the header", "key,label,site\na.png,cat\n", "wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := readAll(t, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v; want one saying %q", err, tc.want)
			}
		})
	}
}

// Study labels are keyed by study_uid (or key); an image's labels file
// with a study_uid column is still keyed by key.
func TestStudyLabelsAreKeyedByStudyUID(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		keys     []string
		want     []Row
	}{
		{"a study_uid,label header", "study_uid,label\n1.2.3,nodule\n", []string{"study_uid", "key"}, []Row{{2, "1.2.3", "nodule"}}},
		{"key before study_uid when asked so", "study_uid,key,label\n1.2.3,a.dcm,nodule\n", []string{"key"}, []Row{{2, "a.dcm", "nodule"}}},
		{"no header", "1.2.3,nodule\n", []string{"study_uid", "key"}, []Row{{1, "1.2.3", "nodule"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReaderFor(strings.NewReader(tc.in), tc.keys...)
			if err != nil {
				t.Fatal(err)
			}
			var rows []Row
			for row, err := r.Next(); !errors.Is(err, io.EOF); row, err = r.Next() {
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, row)
			}
			if !slices.Equal(rows, tc.want) {
				t.Fatalf("rows %v, want %v", rows, tc.want)
			}
		})
	}
}
