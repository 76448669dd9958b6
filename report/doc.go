// Package report writes a job's report.html: a self-contained page for
// people with the job's counts, throughput over time, error reasons, class
// and uncertainty histograms, prediction-set sizes, the sampler decision
// and, given labels, accuracy, a reliability diagram and ECE. When the job
// has group files (package grouping, written by output.Studies), it also
// shows its studies, most uncertain first, and a strip of uncertainty over
// time per video or log topic with its events marked, each bounded (50
// studies, 40 strips of at most 160 points, 100 events a strip, 20 in the
// table) with a note of how many more the files hold.
//
// The page is html/template with inline CSS and charts drawn as inline SVG
// from geometry computed here; it loads nothing (its Content-Security-Policy
// forbids it) and runs no script. It reads a job only through jobs.Store:
// summary.json, the spec, the manifest, the results' times and the group
// files, and the records themselves only when labels are given or the job
// makes prediction sets. The worker writes it when a job ends, just after
// summary.json and the group files; `didicm report` writes it again, with
// labels.
package report
