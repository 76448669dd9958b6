// Package ffmpeg implements video.Decoder over FFmpeg 5.1's libavformat,
// libavcodec and libswscale (Debian 12's libavformat-dev, libavcodec-dev,
// libswscale-dev). It is a cgo package, fenced like the other C wrappers:
// only the commands import it (internal/layering); the rest of didicm sees
// video.Decoder. Builds without cgo, or with -tags novideo, get a Decoder
// that refuses every file with video.ErrUnavailable (reason
// unsupported_format); Available says which build this is.
//
// Input. FFmpeg reads the video.Source through a custom AVIOContext whose
// read and seek callbacks call back into Go by a cgo.Handle (C never holds
// a Go pointer), 256 KiB at a time. The demuxer is chosen from the content
// by video.Container (mov, matroska or avi), never guessed by FFmpeg, and
// any nested open (QuickTime data references, playlists) is refused, so a
// file reads only itself. Decoded codecs: h264, hevc, vp8, vp9, av1, mjpeg,
// mpeg4, mpeg1/2video and prores; others are video.ErrFormat.
//
// Limits. Before decoding, the header's frame size, duration and stream
// count are checked against video.Limits, and the decoder's memory is
// estimated (video.DecodedBytes) and refused above MaxDecodedBytes. Opening
// reads at most MaxHeaderBytes (FFmpeg probes 5 MB or 5 s of packets at
// most), and each packet at most MaxPacketBytes: the read callback stops
// FFmpeg there, before it allocates for a claimed size. The decoder refuses
// frames above MaxPixels itself (max_pixels), so a header that lies about
// the size does not get past it, and a size change re-estimates the memory.
// Arrays FFmpeg sizes from a header's counts (an MP4 sample table, a
// Matroska track list) are bounded by MaxAlloc, the process-wide cap on one
// allocation that this package sets. The decoder runs Limits.Threads threads
// (default 1).
//
// Scaling. swscale converts each sampled frame, and no other, straight
// from the decoder's frame to the requested size: area averaging when
// shrinking (the averaging of imaging's own resize), bilinear when either
// side grows; the YUV matrix is the frame's colour space (BT.601 when
// unspecified), the output full range. The ffmpeg CLI gives the same pixels
// with -vf scale=W:H:flags=area:out_range=full (tested).
//
// Damage. Frames the decoder marks corrupt, and packets whose frames never
// come out (found by their PTS), are error frames at their own times; the
// frames after them up to the next key frame are error frames too, since
// they may reference the damage. A file that ends before its header says
// (a demuxer error, or the last packet more than a second short of the
// stated duration) gives error frames for the sample times it no longer
// holds. None of these fail the call; a failing Source does (video.ErrRead).
//
// Speed. With Every, packets whose frames no sample time can take are held
// back from the decoder and dropped at the next closed key frame (an H.264
// or HEVC IDR, any VP8, VP9, AV1 or MJPEG key frame), their frames kept as
// placeholders in presentation order: with key frames at least as frequent
// as the samples, only the frames from a key frame to each sample are
// decoded. KeyframesOnly sends only key packets to the decoder, whose
// skip_frame is also AVDISCARD_NONKEY.
//
// Ranges. Sample seeks to the key frame before From and decodes forward;
// when the demuxer lands on a key frame at or after From it seeks again
// further back, so that the frame before From is decoded and the sampling
// rule holds across ranges.
//
// Logging. FFmpeg's own log goes to SetLogger's logger at warning level, or
// nowhere (the default); never to stderr.
package ffmpeg
