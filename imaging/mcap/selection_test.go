package mcap_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/mcap"
	"github.com/didicm/didicm/imaging/video"
)

// expect applies a selection to the writer's list by the documented rule:
// topics; with Every, per topic the sample times start+k·Every each take
// the first message at or after them, a message is delivered once by the
// first sample time it takes, and the selection keeps the messages whose
// sample time is in [From, To); without Every, those whose log time is.
func expect(s sidecar, sel mcap.Selection) []key {
	msgs := slices.Clone(s.Messages)
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].LogTime < msgs[j].LogTime })
	prev := map[string]uint64{}
	var out []key
	for _, m := range msgs {
		if len(sel.Topics) > 0 && !slices.Contains(sel.Topics, m.Topic) {
			continue
		}
		at := m.LogTime // what the range bounds
		if sel.Every > 0 {
			e := uint64(sel.Every)
			first := s.StartTime // the first sample time not yet taken
			if p, ok := prev[m.Topic]; ok {
				first = s.StartTime + ((p-s.StartTime)/e+1)*e
			}
			prev[m.Topic] = m.LogTime
			if first > m.LogTime {
				continue // no sample time since the topic's previous message
			}
			at = first
		}
		if at >= sel.From && (sel.To == 0 || at < sel.To) {
			out = append(out, key{m.Topic, m.LogTime})
		}
	}
	return out
}

func keys(gs []got) []key {
	out := make([]key, len(gs))
	for i, g := range gs {
		out[i] = key{g.Topic, g.LogTime}
	}
	return out
}

func sameKeys(t *testing.T, got, want []key) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the expectation is empty: the test would prove nothing")
	}
	g, w := slices.Clone(got), slices.Clone(want)
	less := func(a, b key) int {
		if a.t != b.t {
			return int(int64(a.t-b.t)>>63 | 1)
		}
		return bytes.Compare([]byte(a.topic), []byte(b.topic))
	}
	slices.SortFunc(g, less)
	slices.SortFunc(w, less)
	if !slices.Equal(g, w) {
		t.Fatalf("got %d messages, want %d\ngot  %v\nwant %v", len(g), len(w), g, w)
	}
}

// Topics, time range and sampling step select exactly the documented
// messages, on indexed, unindexed and unchunked files alike.
func TestSelection(t *testing.T) {
	dir := corpusDir(t)
	const s = uint64(time.Second)
	for _, name := range []string{"zstd-indexed", "lz4-noindex", "unchunked"} {
		side := readSidecar(t, dir, name)
		r := mustOpen(t, readFile(t, filepath.Join(dir, name+".mcap")), mcap.Limits{})
		t0 := side.StartTime
		cases := []struct {
			name string
			sel  mcap.Selection
		}{
			{"two topics", mcap.Selection{Topics: []string{"/cam/left", "/fox/pb"}}},
			{"a time range", mcap.Selection{From: t0 + 3*s + 123, To: t0 + 7*s}},
			{"every second", mcap.Selection{Every: time.Second}},
			{"every 0.3 s", mcap.Selection{Every: 300 * time.Millisecond}},
			{"every 0.7 s in a range off the steps", mcap.Selection{Every: 700 * time.Millisecond, From: t0 + 2*s + 500, To: t0 + 9*s}},
			{"every 2 s on one topic from the middle", mcap.Selection{Topics: []string{"/cam/front"}, Every: 2 * time.Second, From: t0 + 5*s + 50_000_000}},
		}
		for _, c := range cases {
			t.Run(name+" selects "+c.name, func(t *testing.T) {
				gs, err := collect(t, r, c.sel)
				if err != nil {
					t.Fatal(err)
				}
				sameKeys(t, keys(images(t, gs)), expect(side, c.sel))
			})
		}
	}
}

// The sampling rule is imaging/video's: per topic, video.Schedule offered
// the log times from the log's start takes the messages Images delivers.
func TestSamplingIsTheVideoRule(t *testing.T) {
	dir := corpusDir(t)
	side := readSidecar(t, dir, "zstd-indexed")
	r := mustOpen(t, readFile(t, filepath.Join(dir, "zstd-indexed.mcap")), mcap.Limits{})
	start := r.Start()
	for _, sel := range []mcap.Selection{
		{Every: 700 * time.Millisecond, From: start + 2_000_000_500, To: start + 9_000_000_000},
		{Every: 1500 * time.Millisecond, From: start + 3_100_000_000},
		{Every: 250 * time.Millisecond, To: start + 4_000_000_000},
	} {
		gs, err := collect(t, r, sel)
		if err != nil {
			t.Fatal(err)
		}
		schedules := map[string]*video.Schedule{}
		var want []key
		msgs := slices.Clone(side.Messages)
		sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].LogTime < msgs[j].LogTime })
		for _, m := range msgs {
			s := schedules[m.Topic]
			if s == nil {
				to := time.Duration(0)
				if sel.To != 0 {
					to = time.Duration(sel.To - start)
				}
				s = video.NewSchedule(sel.Every, time.Duration(sel.From)-time.Duration(start), to)
				schedules[m.Topic] = s
			}
			if s.Take(time.Duration(m.LogTime - start)) {
				want = append(want, key{m.Topic, m.LogTime})
			}
		}
		sameKeys(t, keys(images(t, gs)), want)
	}
}

// Ranges that split a log yield each sample of the whole log once.
func TestSamplingSplitsAcrossRanges(t *testing.T) {
	dir := corpusDir(t)
	r := mustOpen(t, readFile(t, filepath.Join(dir, "zstd-indexed.mcap")), mcap.Limits{})
	every := 450 * time.Millisecond
	whole, err := collect(t, r, mcap.Selection{Every: every})
	if err != nil {
		t.Fatal(err)
	}
	var parts []key
	cuts := []uint64{0, r.Start() + 1_234_567_891, r.Start() + 6_000_000_001, r.Start() + 13_500_000_000, 0}
	for i := 0; i+1 < len(cuts); i++ {
		gs, err := collect(t, r, mcap.Selection{Every: every, From: cuts[i], To: cuts[i+1]})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, keys(images(t, gs))...)
	}
	sameKeys(t, parts, keys(images(t, whole)))
}

// A selected topic that is missing or not a compressed image is reported
// once, as an Image with Err, and the other topics are still read.
func TestSelectedTopicProblems(t *testing.T) {
	dir := corpusDir(t)
	side := readSidecar(t, dir, "zstd-indexed")
	r := mustOpen(t, readFile(t, filepath.Join(dir, "zstd-indexed.mcap")), mcap.Limits{})
	sel := mcap.Selection{Topics: []string{"/cam/raw", "/imu", "/no/such", "/cam/left"}}
	gs, err := collect(t, r, sel)
	if err != nil {
		t.Fatal(err)
	}
	problems := map[string]error{}
	var ok []got
	for _, g := range gs {
		if g.Err != nil {
			if _, dup := problems[g.Topic]; dup {
				t.Fatalf("%s reported twice", g.Topic)
			}
			problems[g.Topic] = g.Err
			continue
		}
		ok = append(ok, g)
	}
	for topic, want := range map[string]error{"/cam/raw": mcap.ErrUnsupportedSchema, "/imu": mcap.ErrUnsupportedSchema, "/no/such": mcap.ErrNoTopic} {
		if !errors.Is(problems[topic], want) {
			t.Errorf("%s: problem %v, want %v", topic, problems[topic], want)
		}
	}
	if len(problems) != 3 {
		t.Errorf("problems %v, want three", problems)
	}
	sameKeys(t, keys(ok), expect(side, mcap.Selection{Topics: []string{"/cam/left"}}))
}

// With a chunk index, a selection reads only the chunks it needs: a short
// range of one topic reads a fraction of what walking the unindexed file
// reads, and of what reading the whole indexed file reads.
func TestIndexedReadsFewerBytes(t *testing.T) {
	dir := corpusDir(t)
	sel := func(r *mcap.Reader) mcap.Selection {
		return mcap.Selection{Topics: []string{"/cam/left"}, From: r.Start() + 4e9, To: r.Start() + 6e9}
	}
	read := func(name string, selection func(*mcap.Reader) mcap.Selection) (int64, []key) {
		data := readFile(t, filepath.Join(dir, name+".mcap"))
		c := &countingReaderAt{r: bytes.NewReader(data)}
		r, err := mcap.Open(c, int64(len(data)), mcap.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		gs, err := collect(t, r, selection(r))
		if err != nil {
			t.Fatal(err)
		}
		return c.n.Load(), keys(images(t, gs))
	}
	indexed, got := read("zstd-indexed", sel)
	walked, want := read("zstd-noindex", sel)
	whole, _ := read("zstd-indexed", func(*mcap.Reader) mcap.Selection { return mcap.Selection{} })
	sameKeys(t, got, want)
	t.Logf("bytes read: indexed range %d, indexed whole %d, unindexed range %d", indexed, whole, walked)
	if indexed*4 > walked || indexed*4 > whole {
		t.Errorf("the indexed range read %d bytes: not under a quarter of the walk (%d) and of the whole file (%d)", indexed, walked, whole)
	}
}
