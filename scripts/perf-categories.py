#!/usr/bin/env python3
"""Sum `perf script -F comm,tid,ip,sym,dso` call stacks (stdin) into the
pipeline's stages: each sample goes to the first category, in the order
below, that has a frame on its stack; ONNX Runtime's own threads have no Go
frames. Prints each category's share of all samples, kernel time marked [k]."""
import collections
import sys

CATEGORIES = [
    ("gc and allocation", ["runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge",
                           "runtime.gcAssistAlloc", "runtime.mallocgc"]),
    ("model call (Go side)", ["ort.(*Model)"]),
    ("sampler", ["sampler.(*cpWork)", "sampler.CL"]),
    ("read images", ["workers.(*Processor).run.func1"]),
    ("decode", ["classify.(*Engine).Prepare"]),
    ("records", ["workers.(*Processor).run.func2"]),
    ("summary", ["pipeline.Finish"]),
    ("writes", ["storage.(*Bucket).Write"]),
    ("benchmark's own polling", ["workers_test.waitSummary"]),
    ("batch set-up", ["workers.(*Processor)", "classify.(*Engine)"]),
    ("asynq and redis client", ["hibiken/asynq", "redis/go-redis"]),
]


def category(comm, frames):
    if comm.startswith("redis-server"):
        return "redis-server"
    for name, patterns in CATEGORIES:
        if any(p in f for f in frames for p in patterns):
            return name
    leaf = frames[0] if frames else ""
    if "libonnxruntime" in leaf:
        return "ONNX Runtime"
    if "kernel" in leaf:
        return "kernel, other (scheduler, interrupts, faults)"
    return "other"


def main():
    counts = collections.Counter()
    stack = []
    for line in list(sys.stdin) + [""]:
        line = line.strip()
        if line:
            stack.append(line)
            continue
        if stack:
            comm, frames = stack[0].split()[0], stack[1:]
            name = category(comm, frames)
            if frames and "kernel.kallsyms" in frames[0] and not name.startswith("kernel"):
                name += " [k]"
            counts[name] += 1
        stack = []
    total = sum(counts.values())
    print(f"{total} samples")
    for name, n in counts.most_common():
        print(f"{100 * n / total:6.2f}%  {name}")


if __name__ == "__main__":
    main()
