//go:build cgo && !novideo

// The C side of package ffmpeg: FFmpeg calls that take pointers to pointers,
// callbacks, and field accesses cgo cannot write. Go holds a vd_ctx and
// calls these; the custom I/O calls back into Go (callbacks.go).
#ifndef VD_SHIM_H
#define VD_SHIM_H

#include <stdint.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

// Error codes Go compares with (cgo cannot evaluate FFERRTAG).
enum {
	VD_EOF = AVERROR_EOF,
	VD_EAGAIN = AVERROR(EAGAIN),
	VD_EXIT = AVERROR_EXIT,
	VD_EIO = AVERROR(EIO),
	VD_EINVAL = AVERROR(EINVAL),
	VD_ENOMEM = AVERROR(ENOMEM),
	VD_INVALIDDATA = AVERROR_INVALIDDATA,
	VD_NO_STREAM = AVERROR_STREAM_NOT_FOUND,
	VD_NO_DECODER = AVERROR_DECODER_NOT_FOUND,
	VD_NO_DEMUXER = AVERROR_DEMUXER_NOT_FOUND,
	VD_PATCHWELCOME = AVERROR_PATCHWELCOME,
};

typedef struct vd_ctx {
	AVFormatContext *fmt;
	AVIOContext *io;
	AVStream *st;       // the video stream
	AVCodecContext *dec;
	AVPacket *pkt;      // the latest packet of the video stream
	AVFrame *frame;     // the latest decoded frame
	struct SwsContext *sws;
	int sws_colorspace, sws_full; // what sws was last set up for
	uint8_t *out;       // the scaled frame, out_stride bytes a row
	int out_stride, out_cap;
} vd_ctx;

vd_ctx *vd_alloc(void);
void vd_close(vd_ctx *c);
int vd_open(vd_ctx *c, uintptr_t handle, const char *format, int buf_size, int64_t probesize,
            int64_t analyzeduration, int max_streams, int64_t max_pixels);
int vd_open_decoder(vd_ctx *c, int threads, int64_t max_pixels, int keyframes_only);
int vd_read(vd_ctx *c);
int vd_send_packet(vd_ctx *c, const AVPacket *pkt);
int vd_receive(vd_ctx *c);
int vd_scale(vd_ctx *c, int w, int h, int gray);
int vd_seek(vd_ctx *c, int64_t ts, int flags);
int64_t vd_index_position(vd_ctx *c, int64_t dts);
int64_t vd_frame_bytes(vd_ctx *c);
int64_t vd_frame_bytes_of(const AVFrame *f);
int vd_intra_only(vd_ctx *c);
int64_t vd_rescale(int64_t v, int a_num, int a_den, int b_num, int b_den);
void vd_strerror(int code, char *buf, int n);
void vd_log_setup(int level);
void vd_set_max_alloc(size_t n);

#endif
