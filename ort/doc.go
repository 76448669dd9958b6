// Package ort runs DiDiRN ONNX models with ONNX Runtime. It is the only
// package that imports onnxruntime_go (and so needs cgo and the shared
// library). Only the commands (cmd/, deploy/) link it, checked by
// internal/layering; the rest of the system sees a *Model through small
// interfaces where they are used (sampler.Scorer, classify.Model,
// workers.Model), each asserted against *Model in cmd.
//
// The shared library is found from, in order: Config.LibraryPath, the
// ONNXRUNTIME_LIB environment variable, .cache/onnxruntime/1.29.0/ in the
// working directory or a parent of it or of the executable (filled by
// scripts/fetch-onnxruntime.sh), and finally the dynamic loader's own search.
package ort
