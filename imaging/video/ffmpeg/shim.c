//go:build cgo && !novideo

#include <stdatomic.h>
#include <stdio.h>
#include <libavutil/imgutils.h>
#include <libavutil/mem.h>
#include "shim.h"
#include "_cgo_export.h"

vd_ctx *vd_alloc(void) { return av_mallocz(sizeof(vd_ctx)); }

void vd_close(vd_ctx *c) {
	if (!c) return;
	sws_freeContext(c->sws);
	av_freep(&c->out);
	av_frame_free(&c->frame);
	av_packet_free(&c->pkt);
	avcodec_free_context(&c->dec);
	avformat_close_input(&c->fmt); // leaves the custom AVIOContext alone
	if (c->io) {
		av_freep(&c->io->buffer);
		avio_context_free(&c->io);
	}
	av_free(c);
}

// The AVIOContext's opaque is the cgo.Handle of the Go reader, never a Go pointer.
static int read_cb(void *opaque, uint8_t *buf, int n) { return vdGoRead((uintptr_t)opaque, buf, n); }

static int64_t seek_cb(void *opaque, int64_t off, int whence) {
	return vdGoSeek((uintptr_t)opaque, off, whence);
}

// Nested opens (QuickTime data references, playlists) are refused: a file
// reads only itself.
static int io_open_refused(AVFormatContext *s, AVIOContext **pb, const char *url, int flags, AVDictionary **opts) {
	(void)s; (void)pb; (void)url; (void)flags; (void)opts;
	return AVERROR(EPERM);
}

static int find_stream_info(vd_ctx *c, int64_t max_pixels) {
	unsigned n = c->fmt->nb_streams;
	AVDictionary **opts = av_calloc(n ? n : 1, sizeof(*opts));
	if (!opts) return AVERROR(ENOMEM);
	for (unsigned i = 0; i < n; i++) {
		av_dict_set(&opts[i], "threads", "1", 0);
		av_dict_set_int(&opts[i], "max_pixels", max_pixels, 0);
	}
	int ret = avformat_find_stream_info(c->fmt, opts);
	for (unsigned i = 0; i < n; i++) av_dict_free(&opts[i]);
	av_free(opts);
	return ret;
}

int vd_open(vd_ctx *c, uintptr_t handle, const char *format, int buf_size, int64_t probesize,
            int64_t analyzeduration, int max_streams, int64_t max_pixels) {
	const AVInputFormat *ifmt = av_find_input_format(format);
	if (!ifmt) return AVERROR_DEMUXER_NOT_FOUND;
	uint8_t *buf = av_malloc(buf_size);
	if (!buf) return AVERROR(ENOMEM);
	c->io = avio_alloc_context(buf, buf_size, 0, (void *)handle, read_cb, NULL, seek_cb);
	if (!c->io) {
		av_free(buf);
		return AVERROR(ENOMEM);
	}
	c->fmt = avformat_alloc_context();
	if (!c->fmt) return AVERROR(ENOMEM);
	c->fmt->pb = c->io;
	c->fmt->io_open = io_open_refused;
	c->fmt->probesize = probesize;
	c->fmt->max_analyze_duration = analyzeduration;
	c->fmt->max_streams = max_streams;
	AVDictionary *opts = NULL;
	av_dict_set(&opts, "format_whitelist", "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi", 0);
	int ret = avformat_open_input(&c->fmt, NULL, ifmt, &opts); // frees c->fmt on failure
	av_dict_free(&opts);
	if (ret < 0) return ret;
	if ((ret = find_stream_info(c, max_pixels)) < 0) return ret;
	ret = av_find_best_stream(c->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (ret < 0) return ret;
	c->st = c->fmt->streams[ret];
	for (unsigned i = 0; i < c->fmt->nb_streams; i++)
		if ((int)i != ret) c->fmt->streams[i]->discard = AVDISCARD_ALL;
	return 0;
}

int vd_open_decoder(vd_ctx *c, int threads, int64_t max_pixels, int keyframes_only) {
	const AVCodec *codec = avcodec_find_decoder(c->st->codecpar->codec_id);
	if (!codec) return AVERROR_DECODER_NOT_FOUND;
	if (!(c->dec = avcodec_alloc_context3(codec))) return AVERROR(ENOMEM);
	int ret = avcodec_parameters_to_context(c->dec, c->st->codecpar);
	if (ret < 0) return ret;
	c->dec->pkt_timebase = c->st->time_base;
	c->dec->thread_count = threads;
	c->dec->max_pixels = max_pixels;
	// Damaged frames come out marked, to be reported as errors.
	c->dec->flags |= AV_CODEC_FLAG_OUTPUT_CORRUPT;
	if (keyframes_only) c->dec->skip_frame = AVDISCARD_NONKEY;
	if ((ret = avcodec_open2(c->dec, codec, NULL)) < 0) return ret;
	c->pkt = av_packet_alloc();
	c->frame = av_frame_alloc();
	if (!c->pkt || !c->frame) return AVERROR(ENOMEM);
	return 0;
}

int vd_read(vd_ctx *c) {
	for (;;) {
		av_packet_unref(c->pkt);
		int ret = av_read_frame(c->fmt, c->pkt);
		if (ret < 0 || c->pkt->stream_index == c->st->index) return ret;
	}
}

// vd_send_packet sends pkt to the decoder (NULL: the end of the stream).
int vd_send_packet(vd_ctx *c, const AVPacket *pkt) { return avcodec_send_packet(c->dec, pkt); }

int vd_receive(vd_ctx *c) { return avcodec_receive_frame(c->dec, c->frame); }

// full_range_format maps the deprecated full-range YUV formats to their
// plain twins, setting *full.
static enum AVPixelFormat full_range_format(enum AVPixelFormat f, int *full) {
	switch (f) {
	case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
	case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
	case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
	case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
	case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
	default: return f;
	}
}

// vd_scale converts c->frame to w×h grey or RGB24 (full range) in c->out
// and returns the row stride, or an AVERROR.
int vd_scale(vd_ctx *c, int w, int h, int gray) {
	AVFrame *f = c->frame;
	int full = f->color_range == AVCOL_RANGE_JPEG;
	enum AVPixelFormat src = full_range_format(f->format, &full);
	enum AVPixelFormat dst = gray ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
	int flags = (w <= f->width && h <= f->height) ? SWS_AREA : SWS_BILINEAR;
	struct SwsContext *s = sws_getCachedContext(c->sws, f->width, f->height, src, w, h, dst, flags, NULL, NULL, NULL);
	if (!s) return AVERROR(EINVAL);
	int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
	if (s != c->sws || cs != c->sws_colorspace || full != c->sws_full) {
		const int *coef = sws_getCoefficients(cs);
		sws_setColorspaceDetails(s, coef, full, coef, 1, 0, 1 << 16, 1 << 16);
		c->sws = s;
		c->sws_colorspace = cs;
		c->sws_full = full;
	}
	int stride = FFALIGN(w * (gray ? 1 : 3), 64);
	int need = stride * h + 64;
	if (need > c->out_cap) {
		av_freep(&c->out);
		if (!(c->out = av_malloc(need))) return AVERROR(ENOMEM);
		c->out_cap = need;
	}
	uint8_t *dstp[4] = {c->out, NULL, NULL, NULL};
	int dsts[4] = {stride, 0, 0, 0};
	int ret = sws_scale(s, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dstp, dsts);
	return ret < 0 ? ret : stride;
}

int vd_seek(vd_ctx *c, int64_t ts, int flags) {
	int ret = av_seek_frame(c->fmt, c->st->index, ts, flags);
	if (ret >= 0 && c->dec) avcodec_flush_buffers(c->dec);
	return ret;
}

// vd_index_position is the place of the sample with this DTS in the
// demuxer's index when that index lists every frame of the stream (MP4,
// AVI), else -1.
int64_t vd_index_position(vd_ctx *c, int64_t dts) {
	int n = avformat_index_get_entries_count(c->st);
	if (dts == AV_NOPTS_VALUE || c->st->nb_frames <= 0 || n < c->st->nb_frames) return -1;
	int i = av_index_search_timestamp(c->st, dts, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY);
	const AVIndexEntry *e = i < 0 ? NULL : avformat_index_get_entry(c->st, i);
	return e && e->timestamp == dts ? i : -1;
}

// vd_frame_bytes is the size of one decoded frame as the header describes
// it, 3 bytes a pixel (4:2:0 at 16 bits) when it names no pixel format.
int64_t vd_frame_bytes(vd_ctx *c) {
	AVCodecParameters *p = c->st->codecpar;
	int w = FFALIGN(p->width, 64) + 64, h = FFALIGN(p->height, 64) + 64;
	int n = p->format < 0 ? -1 : av_image_get_buffer_size(p->format, w, h, 64);
	return n < 0 ? (int64_t)w * h * 3 : n;
}

// vd_frame_bytes_of is the size of a decoded frame of f's size and format.
int64_t vd_frame_bytes_of(const AVFrame *f) {
	int w = FFALIGN(f->width, 64) + 64, h = FFALIGN(f->height, 64) + 64;
	int n = av_image_get_buffer_size(f->format, w, h, 64);
	return n < 0 ? (int64_t)w * h * 3 : n;
}

int vd_intra_only(vd_ctx *c) {
	const AVCodecDescriptor *d = avcodec_descriptor_get(c->st->codecpar->codec_id);
	return d && (d->props & AV_CODEC_PROP_INTRA_ONLY);
}

// vd_rescale converts v ticks of a_num/a_den to ticks of b_num/b_den,
// rounded to the nearest (halves away from zero).
int64_t vd_rescale(int64_t v, int a_num, int a_den, int b_num, int b_den) {
	return av_rescale_q(v, (AVRational){a_num, a_den}, (AVRational){b_num, b_den});
}

void vd_strerror(int code, char *buf, int n) { av_strerror(code, buf, n); }

// FFmpeg's log goes to Go (vdGoLog) at or above the level set, never to stderr.
static atomic_int log_level = AV_LOG_QUIET;

static void log_cb(void *avcl, int level, const char *fmt, va_list vl) {
	if (level > atomic_load_explicit(&log_level, memory_order_relaxed)) return;
	char line[1024];
	int prefix = 1;
	av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &prefix);
	vdGoLog(level, line);
}

void vd_log_setup(int level) {
	atomic_store(&log_level, level);
	av_log_set_callback(log_cb);
}

void vd_set_max_alloc(size_t n) { av_max_alloc(n); }
