// Package report writes a job's report.html: a self-contained page for
// people with the job's counts, throughput over time, error reasons, class
// and uncertainty histograms, prediction-set sizes, the sampler decision
// and, given labels, accuracy, a reliability diagram and ECE.
//
// The page is html/template with inline CSS and charts drawn as inline SVG
// from geometry computed here; it loads nothing (its Content-Security-Policy
// forbids it) and runs no script. It reads a job only through jobs.Store:
// summary.json, the spec, the manifest and the results' times, and the
// records themselves only when labels are given or the job makes
// prediction sets. the worker writes it when a job ends, just after summary.json; `didicm
// report` writes it again, with labels.
package report
