package report

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/didicm/didicm/pipeline"
)

//go:embed report.html
var files embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"n": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
}).ParseFS(files, "report.html"))

// topClasses is how many classes the class chart names; the rest are "other".
const topClasses = 30

// maxSetSize is the largest prediction-set size with a bar of its own.
const maxSetSize = 20

// page is what the template shows.
type page struct {
	JobID                 string
	Counts                []count
	Facts, Run, PlanFacts []fact
	PlanLists             []factList
	PlanJSON              string
	Throughput            *chart
	RateNote              string
	Classes               *chart
	Entropy               *chart
	MeanEntropy           string
	Quantiles             []quantile
	QuantileChart         *chart
	Errors                *chart
	SetSizes              *chart
	SetNote, RecordsNote  string
	Labels                *labelled
	ByClass               *classTable
	Studies               *studySection
	Times                 *timeSection
	GroupsNote            string
}

type count struct {
	Label, Value, Share string
}

type fact struct{ Label, Value string }

type factList struct {
	Label string
	Items []string
}

type quantile struct {
	Name string
	V    float64
}

// labelled is the accuracy section.
type labelled struct {
	Facts []fact
	Chart *chart
	Bins  []binRow
}

type binRow struct{ Range, N, Accuracy, Confidence string }

// filesNote says how many files the images came from when that differs
// (multi-frame files, videos and logs give several images each).
func filesNote(s pipeline.Summary) string {
	if s.Files == 0 || s.Files == s.Images {
		return ""
	}
	return "from " + comma(s.Files) + " files"
}

func (j *job) page() page {
	s := j.sum
	p := page{JobID: s.JobID, RecordsNote: j.note}
	p.Counts = []count{
		{"Images", comma(s.Images), filesNote(s)},
		{"Classified", comma(s.Classified), percent(s.Classified, s.Images)},
		{"Errors", comma(s.Errors), percent(s.Errors, s.Images)},
		{"For review", comma(s.Review), percent(s.Review, s.Images)},
	}
	p.Facts = []fact{{"Started", s.Started}, {"Finished", s.Finished},
		{"Rate", rateFact(s)},
		{"Review rule", j.reviewRule()}}
	p.Run = []fact{{"Samplers", joinCounts(s.Samplers)}, {"Models (sha256)", joinCounts(s.Models)},
		{"Providers", joinCounts(s.Providers)}, {"Model calls per image (NFE)", nfePerImage(s)}}
	p.Throughput, p.RateNote = j.throughputChart()
	p.Classes = classChart(s)
	p.Entropy = j.entropyChart()
	p.MeanEntropy = fmt.Sprintf("%.3f", s.MeanEntropyNorm)
	for name, v := range s.MaxProbQuantiles {
		p.Quantiles = append(p.Quantiles, quantile{name, v})
	}
	slices.SortFunc(p.Quantiles, func(a, b quantile) int { return cmp.Or(cmp.Compare(a.V, b.V), cmp.Compare(a.Name, b.Name)) })
	p.QuantileChart = quantileStrip(p.Quantiles)
	if s.Errors > 0 {
		p.Errors = rows("errors", "Error reasons", countRows(s.ErrorReasons, len(s.ErrorReasons)), s.Errors)
	}
	p.PlanFacts, p.PlanLists, p.PlanJSON = planFacts(s.Plan)
	p.Studies, p.Times, p.GroupsNote = j.groups.studySection(), j.groups.timeSection(pipeline.RuleOf(j.spec)), j.groupsNote
	if t := j.tally; t != nil {
		p.SetSizes, p.SetNote = setSizeChart(t)
		if t.labels != nil {
			p.Labels = labelSection(t)
		}
	}
	p.ByClass = classSection(j.spec, j.tally)
	return p
}

func rateFact(s pipeline.Summary) string {
	if s.ImagesPerSec <= 0 {
		return "—"
	}
	working := time.Duration(s.WorkingSeconds * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%.1f images/s over %s of work", s.ImagesPerSec, working)
}

func (j *job) reviewRule() string {
	if r := pipeline.RuleOf(j.spec); r.BySetSize {
		return "failed, or a prediction set of more than one class, or an empty one"
	}
	return fmt.Sprintf("failed, or normalised entropy above %.2f", j.sum.ReviewThreshold)
}

func (j *job) throughputChart() (*chart, string) {
	if len(j.rates) == 0 {
		return nil, "No batch has results."
	}
	perMin := j.width.Minutes()
	labels, values, tips := make([]string, len(j.rates)), make([]float64, len(j.rates)), make([]string, len(j.rates))
	layout := "15:04"
	if j.rates[len(j.rates)-1].Start.Sub(j.rates[0].Start) >= 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	peak := 0.0
	for i, b := range j.rates {
		labels[i] = b.Start.UTC().Format(layout)
		values[i] = float64(b.Images) / perMin
		peak = math.Max(peak, values[i])
		tips[i] = fmt.Sprintf("%s to %s UTC: %s images (%.1f per minute)", b.Start.UTC().Format(layout),
			b.Start.Add(j.width).UTC().Format(layout), comma(b.Images), values[i])
	}
	c := columns("throughput", "Images finished per minute", labels, values, tips, "images/min", "time (UTC), bins of "+shortDuration(j.width), false)
	return c, fmt.Sprintf("Each batch counts when its results were written; bins of %s, peak %.1f images per minute.", shortDuration(j.width), peak)
}

func shortDuration(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h", int(d.Hours()))
}

// classChart shows the most frequent classes and the rest as "other".
func classChart(s pipeline.Summary) *chart {
	if len(s.Classes) == 0 {
		return nil
	}
	items := countRows(s.Classes, topClasses)
	if rest := len(s.Classes) - topClasses; rest > 0 {
		n := s.Classified
		for _, it := range items {
			n -= it.N
		}
		items = append(items, rowItem{Label: fmt.Sprintf("other (%d classes)", rest), N: n, Other: true})
	}
	return rows("classes", "Predicted classes", items, s.Classified)
}

// countRows sorts counts by size (then name) and keeps the first top.
func countRows(m map[string]int, top int) []rowItem {
	items := make([]rowItem, 0, len(m))
	for k, n := range m {
		items = append(items, rowItem{Label: k, N: n})
	}
	slices.SortFunc(items, func(a, b rowItem) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label)) })
	return items[:min(top, len(items))]
}

func (j *job) entropyChart() *chart {
	h, edges := j.sum.EntropyNormHistogram, j.sum.EntropyNormBinEdges
	if len(h) == 0 {
		return nil
	}
	edge := func(i int) float64 {
		if len(edges) == len(h)+1 {
			return edges[i]
		}
		return float64(i) / float64(len(h))
	}
	labels, values, tips := make([]string, len(h)), make([]float64, len(h)), make([]string, len(h))
	for i, n := range h {
		labels[i] = fmt.Sprintf("%.1f–%.1f", edge(i), edge(i+1))
		values[i] = float64(n)
		tips[i] = fmt.Sprintf("normalised entropy %.1f to %.1f: %s images (%s)", edge(i), edge(i+1), comma(n), percent(n, j.sum.Classified))
	}
	c := columns("entropy", "Normalised entropy of the classified images", labels, values, tips, "images", "normalised entropy (entropy / log K)", true)
	if r := pipeline.RuleOf(j.spec); !r.BySetSize && r.Threshold > edge(0) && r.Threshold < edge(len(h)) {
		x := marginLeft + (c.W-marginRight-marginLeft)*(r.Threshold-edge(0))/(edge(len(h))-edge(0))
		c.Lines = append(c.Lines, line{x, marginTop + 10, x, c.H - marginBase, "threshold"})
		c.Texts = append(c.Texts, text{x + 4, marginTop + 22, fmt.Sprintf("review above %.2f", r.Threshold), "start", "tick"})
	}
	return c
}

func setSizeChart(t *tally) (*chart, string) {
	if t.setSizes == nil {
		return nil, ""
	}
	top := 0
	for k := range t.setSizes {
		top = max(top, k)
	}
	top = min(top, maxSetSize)
	labels, values, tips := make([]string, top+1), make([]float64, top+1), make([]string, top+1)
	for k, n := range t.setSizes {
		values[min(k, maxSetSize)] += float64(n)
	}
	for i := range labels {
		labels[i] = strconv.Itoa(i)
		if i == maxSetSize {
			labels[i] += "+"
		}
		tips[i] = fmt.Sprintf("set size %s: %s images (%s)", labels[i], comma(int(values[i])), percent(int(values[i]), t.classified))
	}
	c := columns("set-sizes", "Prediction-set sizes", labels, values, tips, "images", "classes in the prediction set", true)
	note := fmt.Sprintf("%s of %s classified images (%s) have a set of exactly one class.", comma(t.setSizes[1]),
		comma(t.classified), percent(t.setSizes[1], t.classified))
	if t.noSet > 0 {
		note += fmt.Sprintf(" %s have no prediction set (made without the calibration).", comma(t.noSet))
	}
	return c, note
}

func labelSection(t *tally) *labelled {
	l := &labelled{Facts: []fact{
		{"Labelled images classified", comma(t.cal.n)},
		{"Accuracy (top-1)", rate(t.cal.accuracy())},
		{fmt.Sprintf("ECE (%d bins)", ReliabilityBins), number(t.cal.ece())},
		{"Accuracy of the images sent to review", rate(t.review.rate()) + " of " + comma(t.review.n)},
		{"Accuracy of the others", rate(t.rest.rate()) + " of " + comma(t.rest.n)},
		{"Labelled images that failed", comma(t.failed)},
		{"Labels matching no image", comma(max(0, len(t.labels)-t.matched))},
	}}
	if t.covered.n > 0 {
		l.Facts = append(l.Facts, fact{"Prediction sets holding the label (coverage)", rate(t.covered.rate()) + " of " + comma(t.covered.n)})
	}
	if t.cal.n == 0 {
		return l
	}
	l.Chart = reliability(&t.cal)
	for i, b := range t.cal.bins {
		if b.n == 0 {
			continue
		}
		l.Bins = append(l.Bins, binRow{fmt.Sprintf("%.3f–%.3f", float64(i)/ReliabilityBins, float64(i+1)/ReliabilityBins),
			comma(b.n), number(b.accuracy()), number(b.confidence())})
	}
	return l
}

// planFacts lays out the sampler decision (plan.json): its scalars, its
// lists of strings, and the whole of it indented.
func planFacts(raw json.RawMessage) ([]fact, []factList, string) {
	var m map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil, nil, ""
	}
	var facts []fact
	var lists []factList
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k].(type) {
		case string, bool:
			facts = append(facts, fact{k, fmt.Sprint(v)})
		case float64:
			facts = append(facts, fact{k, planNumber(k, v)})
		case []any:
			var items []string
			for _, e := range v {
				if s, ok := e.(string); ok {
					items = append(items, s)
				}
			}
			if len(items) == len(v) && len(items) > 0 {
				lists = append(lists, factList{k, items})
			}
		}
	}
	indented, _ := json.MarshalIndent(m, "", "  ")
	return facts, lists, string(indented)
}

// planNumber writes a plan's number: sizes in bytes as IEC units, whole
// numbers with thousands separators.
func planNumber(key string, v float64) string {
	switch {
	case strings.HasSuffix(key, "_bytes") && v >= 0 && v == math.Trunc(v):
		return humanize.IBytes(uint64(v))
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return humanize.Comma(int64(v))
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func joinCounts(m map[string]int) string {
	items := countRows(m, len(m))
	s := ""
	for i, it := range items {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%s (%s)", it.Label, comma(it.N))
	}
	if s == "" {
		return "—"
	}
	return s
}

func nfePerImage(s pipeline.Summary) string {
	if s.Classified == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f (%s in all)", float64(s.NFE)/float64(s.Classified), comma(s.NFE))
}

func comma(n int) string { return humanize.Comma(int64(n)) }

func percent(a, b int) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func rate(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func number(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.3f", v)
}
