package ort

/*
#include <malloc.h>
*/
import "C"

import "sync"

// mmapThreshold is where glibc serves an allocation with its own mmap.
const mmapThreshold = 128 << 10

var fixMmap sync.Once

// fixMmapThreshold pins glibc's mmap threshold at 128 KiB, once per
// process. Without an arena every tensor of a model call is a malloc, and
// glibc's default threshold rises to the largest block freed (up to 32 MiB
// on 64-bit), after which such blocks stay in its heap when freed: resident
// memory would then follow the largest call the process has made, not the
// current one. Pinned, every large block goes back to the system on free,
// so a call costs what it uses (docs/benchmarks.md, the planner's memory).
func fixMmapThreshold() {
	fixMmap.Do(func() { C.mallopt(C.M_MMAP_THRESHOLD, mmapThreshold) })
}
