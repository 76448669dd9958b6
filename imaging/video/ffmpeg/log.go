//go:build cgo && !novideo

package ffmpeg

// #include "shim.h"
import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

var logger atomic.Pointer[slog.Logger]

func init() {
	C.vd_log_setup(C.AV_LOG_QUIET)
	C.vd_set_max_alloc(C.size_t(MaxAlloc))
}

// SetLogger routes FFmpeg's own messages at warning level and above to l
// (key "ffmpeg"), or silences them when l is nil, the default. FFmpeg's log
// is one per process, so this is process-wide; nothing is printed to
// stderr either way.
func SetLogger(l *slog.Logger) {
	logger.Store(l)
	level := C.int(C.AV_LOG_QUIET)
	if l != nil {
		level = C.AV_LOG_WARNING
	}
	C.vd_log_setup(level)
}

// logLine receives one formatted line from FFmpeg's log callback.
func logLine(level int, line string) {
	l := logger.Load()
	if l == nil {
		return
	}
	lv := slog.LevelWarn
	if level <= C.AV_LOG_ERROR {
		lv = slog.LevelError
	}
	l.Log(context.Background(), lv, "ffmpeg", "message", strings.TrimSpace(line))
}
