package report

import (
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/jobs"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12 {
		t.Fatalf("%s = %.15g, want %.15g", what, got, want)
	}
}

// Hand-made records: three in the top bin (0.95 right, 0.97 wrong, 1.0
// right), 0.50 right in bin 7, 0.45 wrong in bin 6, a labelled failure and
// an unlabelled image. ECE = 3/5·|2/3 − 2.92/3| + 1/5·|1 − 0.5| + 1/5·|0 − 0.45|
// = 0.184 + 0.1 + 0.09.
func TestReliabilityBinsAndECEOfHandMadeRecords(t *testing.T) {
	results := `{"key":"in/a.png","class":"7","class_index":7,"max_prob":0.95,"entropy_norm":0.1}
{"key":"in/b.png","class":"3","class_index":3,"max_prob":0.97,"entropy_norm":0.1}
{"key":"in/c.png","class":"1","class_index":1,"max_prob":1,"entropy_norm":0}
{"key":"in/d.png","class":"2","class_index":2,"max_prob":0.5,"entropy_norm":0.6}
{"key":"in/e.png","class":"4","class_index":4,"max_prob":0.45,"entropy_norm":0.7}
{"key":"in/f.png","class_index":-1,"max_prob":0,"error":"corrupt","error_reason":"corrupt"}
{"key":"in/g.png","class":"5","class_index":5,"max_prob":0.8,"entropy_norm":0.3}
`
	labels, err := ReadLabels(strings.NewReader(`{"in/a.png": "7", "b.png": 8, "in/c.png": 1, "d.png": "2", "in/e.png": "9", "f.png": "0", "nowhere.png": 3}`))
	if err != nil {
		t.Fatal(err)
	}
	tl := newTally(jobs.Spec{InputPrefix: "in/", ReviewThreshold: 0.5}, labels)
	if err := tl.addBatch([]byte(results)); err != nil {
		t.Fatal(err)
	}
	c := tl.cal
	if c.n != 5 || c.correct != 3 || tl.failed != 1 || tl.matched != 6 || tl.classified != 6 {
		t.Fatalf("counted n=%d correct=%d failed=%d matched=%d classified=%d, want 5 3 1 6 6", c.n, c.correct, tl.failed, tl.matched, tl.classified)
	}
	for i, b := range c.bins {
		want := map[int]calBin{14: {3, 2, 2.92}, 7: {1, 1, 0.5}, 6: {1, 0, 0.45}}[i]
		if b.n != want.n || b.correct != want.correct || math.Abs(b.confSum-want.confSum) > 1e-12 {
			t.Fatalf("bin %d = %+v, want %+v", i, b, want)
		}
	}
	near(t, "accuracy", c.accuracy(), 0.6)
	near(t, "ECE", c.ece(), 0.184+0.1+0.09)
	// Review by entropy above 0.5: d (right) and e (wrong) went to review.
	if tl.review != (hits{2, 1}) || tl.rest != (hits{3, 2}) {
		t.Fatalf("review %+v, rest %+v", tl.review, tl.rest)
	}
}

func TestECEIsZeroWhenConfidenceMatchesAccuracyInEveryBin(t *testing.T) {
	var c calibration
	for i := range 10 { // bin 12 ([0.8, 0.867)): 0.8 confidence, 8 of 10 right
		c.add(0.8, i < 8)
	}
	near(t, "ECE", c.ece(), 0)
	if !math.IsNaN(new(calibration).ece()) {
		t.Fatal("the ECE of no images is not NaN")
	}
}

func TestConfidencesOnAndOutsideTheEdgesFallInTheEndBins(t *testing.T) {
	for _, tc := range []struct {
		conf float64
		bin  int
	}{{0, 0}, {-0.1, 0}, {1, 14}, {1.5, 14}, {1.0 / 15, 1}, {0.999, 14}, {0.5, 7}} {
		if got := binOf(tc.conf); got != tc.bin {
			t.Errorf("binOf(%g) = %d, want %d", tc.conf, got, tc.bin)
		}
	}
}

func TestThroughputBinsByMinuteWithEmptyMinutesKept(t *testing.T) {
	at := func(hms string) time.Time {
		tm, err := time.Parse(time.TimeOnly, hms)
		if err != nil {
			t.Fatal(err)
		}
		return tm.AddDate(2026, 0, 0)
	}
	done := map[int]time.Time{0: at("10:00:10"), 1: at("10:00:50"), 2: at("10:03:05"), 5: at("11:00:00")}
	width, bins := throughput(done, []int{10, 20, 5}, 120) // batch 5 is not in the manifest
	if width != time.Minute || len(bins) != 4 {
		t.Fatalf("width %s, %d bins; want 1m0s, 4", width, len(bins))
	}
	for i, want := range []int{30, 0, 0, 5} {
		if bins[i].Images != want || !bins[i].Start.Equal(at("10:00:00").Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("bin %d = %+v, want %d images from 10:0%d", i, bins[i], want, i)
		}
	}
}

func TestThroughputWidensItsBinsToStayWithinTheLimit(t *testing.T) {
	start := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	done, sizes := map[int]time.Time{}, []int{}
	for i := range 60 { // one batch every 5 minutes for 5 hours
		done[i] = start.Add(time.Duration(i)*5*time.Minute + 30*time.Second)
		sizes = append(sizes, 100)
	}
	width, bins := throughput(done, sizes, 120) // 1 min: 296 bins, 2 min: 148, 5 min: 60
	if width != 5*time.Minute || len(bins) != 60 {
		t.Fatalf("width %s, %d bins; want 5m0s, 60", width, len(bins))
	}
	total := 0
	for _, b := range bins {
		total += b.Images
	}
	if total != 6000 || bins[0].Images != 100 {
		t.Fatalf("%d images in all, %d in the first bin", total, bins[0].Images)
	}
	if _, bins := throughput(nil, sizes, 120); bins != nil {
		t.Fatal("no done batches gave bins")
	}
}

func TestReadLabelsTakesCSVAndJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Labels
	}{
		{"CSV without a header holds class names", "a.png,cat\nb.png, 7\n", Labels{"a.png": {"cat", -1}, "b.png": {"7", -1}}},
		{"a key,label header is skipped", "key,label\na.png,cat\n", Labels{"a.png": {"cat", -1}}},
		{"a key,class_index header makes indices", "key,class_index\na.png,3\n", Labels{"a.png": {"", 3}}},
		{"JSON strings are names and numbers indices", `{"a.png":"cat","b.png":2}`, Labels{"a.png": {"cat", -1}, "b.png": {"", 2}}},
		{"columns past key and label are ignored", "key,label,site\na.png,cat,north\n", Labels{"a.png": {"cat", -1}}},
		{"a header's columns may come in any order", "site,Label,KEY\nnorth,cat,a.png\n", Labels{"a.png": {"cat", -1}}},
		{"a class_index column among others makes indices", "site,key,class_index\nnorth,a.png,3\n", Labels{"a.png": {"", 3}}},
		{"without a header the first two columns are key and label", "a.png,cat,north\n", Labels{"a.png": {"cat", -1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadLabels(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	for _, bad := range []string{"", "a.png,cat\na.png,dog\n", "key,index\na.png,x\n", `{"a.png":1.5}`, `{"a.png":-1}`, `{}`, "a.png\n", "key,site\na.png,north\n"} {
		if _, err := ReadLabels(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadLabels(%q) accepted it", bad)
		}
	}
}

func TestAxisTopsAreRoundNumbers(t *testing.T) {
	for _, tc := range []struct {
		v, top, step float64
		integer      bool
	}{{3, 3, 1, true}, {0, 1, 1, true}, {97, 100, 25, true}, {1234, 1500, 500, false}, {0.93, 1, 0.25, false}} {
		top, step := niceTop(tc.v, tc.integer)
		if top != tc.top || step != tc.step {
			t.Errorf("niceTop(%g) = %g, %g; want %g, %g", tc.v, top, step, tc.top, tc.step)
		}
	}
}

func TestSetSizesAreCountedOnCalibratedJobsOnly(t *testing.T) {
	results := []byte(`{"key":"a","class":"1","class_index":1,"max_prob":0.9,"prediction_set":["1"],"set_size":1}
{"key":"b","class":"2","class_index":2,"max_prob":0.4,"prediction_set":["2","1","3"],"set_size":3}
{"key":"c","class":"2","class_index":2,"max_prob":0.4,"set_size":0}
{"key":"d","class":"2","class_index":2,"max_prob":0.4}
{"key":"e","class_index":-1,"error":"corrupt"}
`)
	calibrated := newTally(jobs.Spec{Calibration: &calibrate.Calibration{}}, nil)
	if err := calibrated.addBatch(results); err != nil {
		t.Fatal(err)
	}
	if want := map[int]int{0: 1, 1: 1, 3: 1}; !maps.Equal(calibrated.setSizes, want) || calibrated.noSet != 1 || calibrated.classified != 4 {
		t.Fatalf("set sizes %v, %d without a set, %d classified; want %v, 1, 4", calibrated.setSizes, calibrated.noSet, calibrated.classified, want)
	}
	plain := newTally(jobs.Spec{}, nil)
	if err := plain.addBatch(results); err != nil || plain.setSizes != nil {
		t.Fatalf("a job without a calibration counted set sizes %v (%v)", plain.setSizes, err)
	}
}
