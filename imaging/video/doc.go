// Package video expands video files into sampled frames: the types, the
// sampling rule and the limits shared by every part of didicm that handles
// video, in pure Go. Decoding is behind the Decoder interface; the cgo
// package ffmpeg implements it over FFmpeg's libraries, and only the
// commands import that package (internal/layering), as with the other C
// codecs.
//
// Files are recognised by content (Sniff): MP4/MOV, Matroska/WebM and AVI.
// A Source is read at the offsets the container's index names, never whole,
// so a video of several GB in object storage costs what is sampled.
//
// Sampling (Options): a time step (Every) or key frames only, within a time
// range [From, To). The rule, take the first frame at or after each sample
// time, makes the frames of ranges that tile a file those of one call over
// the file, each once: the pipeline can split an hour of footage into
// ranges for several workers and retry one range alone. Frames are scaled to
// the model's input by the decoder (swscale), not after.
//
// Time. Frame.T is the presentation time from the stream's start, computed
// from the PTS in the stream's time base; records are keyed by it
// (path#t=SECONDS, millisecond precision).
//
// Limits bound every allocation a header could inflate (frame size,
// duration, streams, header and packet bytes, the decoder's frame pool);
// damage (a corrupt stretch, a truncated file) gives error frames that wrap
// ErrCorrupt while the rest of the file is still read. Reason maps errors to
// the reasons of result records.
package video
