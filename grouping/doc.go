// Package grouping turns a finished job's image records into answers per
// group, after scoring: per DICOM study and series (a group posterior,
// its uncertainty, the images that drove it, a review flag) and, for
// videos and logs, per file and topic (uncertainty over time and events:
// runs of uncertain frames). It reads records as they stream, batch by
// batch, and holds per group a few running numbers, never the records.
//
// # Studies and series
//
// A record with a study_uid belongs to its study, and with a series_uid
// also to its series (both keyed by UIDs, the series within its study).
// Each image's posterior p_i (K values; a top-k record's missing classes
// share what its top k leave, evenly, when K is known) is folded into
// the group by the rule:
//
//   - mean (the default): P[c] = Σ_i p_i[c] / Σ_c' Σ_i p_i[c'], the
//     average image: the study's answer when its images show one thing.
//   - max: P[c] = max_i p_i[c] / Σ_c' max_i p_i[c'], "any image shows
//     it": a class one image is sure of dominates whatever the others say,
//     and two images sure of different classes leave P split between them.
//
// Failed images count as errors and add nothing to P. The group's
// uncertainty is P's: max_prob, margin (top-1 minus top-2), entropy (nats)
// and entropy_norm (entropy / log K). A study's images are all its
// series' images: its P folds every image, not the series' answers.
//
// Drivers are the images that drove the answer: the D (Config.Drivers)
// classified images of the group with the highest probability of the
// group's class, p_i[class], ties by key. Under mean they bring the most
// of P[class]; under max the first one is the image that set it. They are
// found in a second pass over the records, once the class is known, so
// that a group holds K running values and D drivers, whatever its size
// and wherever its images lie in the job.
//
// A group is flagged for review when its entropy_norm is above the job's
// review threshold, or when none of its images could be classified. The
// job's review rule by set size does not carry over: a prediction set's
// coverage holds per image, and nothing is known of a set built from a
// group's P; study-level sets come from calibrating on study labels.
//
// # Videos and logs: timelines and events
//
// A record whose key has a time (path#t=S, path#topic=/cam#t=S) belongs
// to the stream of its file, or of its file's topic for a log. A frame is
// uncertain when the job's review rule wants it (failed frames are not:
// they stay single items of the review list). Uncertain frames of a
// stream, in time order, whose times are at most the gap apart form one
// event. The gap is Config.Gap; when zero, twice the sampling step: the
// job's video.every, or else the stream's mean spacing ((last − first) /
// (frames − 1)). So one confident or missing frame between uncertain ones
// does not split an event, and two do. An event has its start and end
// times, its frames' keys (rebuilt by package recordkey from the stream
// and each time) and its most uncertain frame (by set size when the rule
// is by set size, then by entropy_norm, then the earliest).
//
// A stream's timeline is its frames' normalised entropy over time in at
// most Config.TimelineBins bins from time 0: the bins start 1 ms wide and
// double (merging pairs) whenever a frame falls past the last, so that
// the bins hold the whole stream in whichever order its records come.
// Each stream holds its uncertain frames (24 bytes each) and its bins.
package grouping
