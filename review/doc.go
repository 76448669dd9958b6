// Package review serves a finished job's review list (review.jsonl) to a
// person, one image at a time, most uncertain first, and records each
// decision in the job's folder as reviews/NAME.jsonl (one file per
// reviewer, append-only).
//
// The page is Go html/template plus one small embedded script: no build
// step and no fetches beyond this server. Images come from the job's input
// bucket through the server, as PNG (a thumbnail of at most 512 px, or the
// whole image), DICOM frames windowed with the file's own window. The
// server only reads the input bucket, and writes nothing but its
// reviewer's reviews object in the output bucket.
//
// Listening on a loopback address needs no token; any other address needs
// one, and every request must then carry it (CheckListen, Config.Token).
package review
