//go:build cgo && !novideo

package ffmpeg

// This file holds the functions C calls back. Its preamble may declare
// only (cgo's rule for files with //export).

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export vdGoRead
func vdGoRead(h C.uintptr_t, buf *C.uint8_t, n C.int) C.int {
	r := cgo.Handle(h).Value().(*reader)
	return C.int(r.read(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))))
}

//export vdGoSeek
func vdGoSeek(h C.uintptr_t, off C.int64_t, whence C.int) C.int64_t {
	r := cgo.Handle(h).Value().(*reader)
	return C.int64_t(r.seek(int64(off), int(whence)))
}

//export vdGoLog
func vdGoLog(level C.int, line *C.char) {
	logLine(int(level), C.GoString(line))
}
