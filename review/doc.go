// Package review serves a finished job's review list (review.jsonl) to a
// person, one image at a time, most uncertain first, and stores each
// decision in the job's folder.
//
// The list is read once, as a stream, when the server opens: each image is
// kept as a compact item (key, predicted class, its nine most probable
// classes, prediction set, entropy, error), never as a whole record, and
// the order is fixed then. The page itself is a few kilobytes whatever the
// list's length; its script fetches the list a page at a time (GET /items)
// and the counts (GET /state).
//
// Groups: the images of one event (events.jsonl: uncertain frames of a
// video or log topic close in time) or, failing that, of one DICOM study
// (by the study UID of its review lines), at least two of them, are one
// entry of the list, placed where its most uncertain image is; failed
// images stay alone. The page shows a group's first images (12, most
// uncertain first), its classes (its study's answer from studies.jsonl,
// or the mean of its images' shown classes) and, for a study, its answer;
// one decision on it stores one decision per image of it, each naming the
// group (Decision.Group): labelling it with a class accepts the images
// that predict that class and picks it for the others, so that exports
// and calibration read decisions per image as before. Counts and the
// first open entry are of entries; a group is done once each of its
// images is decided.
//
// Decisions: each server is one review session of jobs.Store
// (reviews/NAME/SESSION-N.jsonl), which only it writes, and a decision is
// acknowledged only once stored, so any number of servers, for one
// reviewer or many, lose nothing. The last decision on each image over
// every session and every older reviews/NAME.jsonl wins (by time, then
// object key, then line: the same everywhere). The server lists reviews/
// on each request for the list and reads only the objects that changed
// since; its own decisions it keeps in memory.
//
// Class names come from the job spec (class_names, the model's classes);
// jobs enqueued before it name only the classes their records name, and a
// decision never stores anything but a name.
//
// The page is Go html/template plus one small embedded script: no build
// step and no fetches beyond this server. Images come from the job's input
// bucket through the server, as PNG (a thumbnail of at most 512 px, or the
// whole image up to 4096 px), DICOM frames windowed with the file's own
// window. Only the requested frame is decoded, two images at a time, each
// under the job's limits (imaging.Limits, with a decode budget). The server
// only reads the input bucket, and writes nothing but its own session's
// objects in the output bucket.
//
// Listening on a loopback address needs no token; any other address needs
// one of at least MinTokenLength characters, and every request must then
// carry it (CheckListen, CheckToken, Config.Token). Every answer is for
// this origin only (Cross-Origin-Resource-Policy), and requests that other
// sites' pages make are refused (Fetch Metadata).
package review
