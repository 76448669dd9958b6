# didicm: `make help` lists the targets.
SHELL := /bin/bash
PY ?= /usr/bin/python3
GO ?= go
ORT_LIB = $(CURDIR)/.cache/onnxruntime/1.29.0/libonnxruntime.so.1
export ONNXRUNTIME_LIB ?= $(ORT_LIB)
FUZZTIME ?= 10s

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(ORT_LIB):
	scripts/fetch-onnxruntime.sh

.PHONY: setup
setup: ## install what the tests need (apt packages, ONNX Runtime from npm)
	scripts/setup.sh

.PHONY: build
build: $(ORT_LIB) ## build bin/didicm
	$(GO) build -o bin/didicm ./cmd/didicm

.PHONY: demo
demo: setup build-demo ## zero-setup demo: MNIST archive -> in-process Redis -> worker -> summary
	bin/didicm-demo demo

.PHONY: demo-pacs
demo-pacs: setup build-demo ## the demo's PACS part: Orthanc, its DICOM slices read over DICOMweb, a DICOM SR sent back (Ctrl-C stops Orthanc)
	bin/didicm-demo demo-pacs --wait

.PHONY: build-demo
build-demo: $(ORT_LIB) ## build bin/didicm-demo (bin/didicm plus the demo: miniredis, embedded MNIST)
	scripts/demo-data.sh
	$(GO) build -tags demo -o bin/didicm-demo ./cmd/didicm

.PHONY: test
test: setup ## all tests: lint, Python, Go (with real ONNX Runtime and Redis), short fuzzing
	$(MAKE) lint test-py test-go fuzz

.PHONY: test-py
test-py: ## Python unit tests and the train/export smoke run
	cd training && PYTHONPATH=. $(PY) -m pytest -q -p no:cacheprovider tests

.PHONY: test-go
test-go: $(ORT_LIB) dicom-corpus mcap-corpus video-corpus ## Go tests (a missing ONNX Runtime fails them; DIDICM_SKIP_ORT=1 skips instead)
	scripts/demo-data.sh
	$(GO) vet ./...
	$(GO) vet -tags demo ./cmd/didicm
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -tags demo -run Demo ./cmd/didicm

.PHONY: test-ha
test-ha: $(ORT_LIB) ## Redis failover with real processes: a master, a replica, three Sentinels; the master SIGKILLed mid-job, replica in sync and not (~1 min; also in test-go)
	$(GO) test -count=1 ./internal/redisurl ./internal/sentineltest
	$(GO) test -count=1 -v -run 'Sentinel|Replica|RedisLost|StillLost|TrackerMissed|HAOverride' ./pipeline ./workers ./cmd/didicm

.PHONY: fuzz
fuzz: $(ORT_LIB) mcap-corpus ## run each fuzz target for FUZZTIME (scripts/fuzz.sh)
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

.PHONY: bench
bench: $(ORT_LIB) ## every benchmark, incl. end to end, scaling and a CPU profile of the job (~12 min; raw output in build/bench/, figures in docs/benchmarks.md)
	scripts/bench-all.sh

GOLANGCI_LINT = $(CURDIR)/.cache/bin/golangci-lint

.PHONY: bench-jpeg
bench-jpeg: ## 1080p JPEG preprocessing per core: libjpeg-turbo and image/jpeg against Pillow (~1 min)
	scripts/bench-jpeg.sh

.PHONY: bench-w2
bench-w2: $(ORT_LIB) ## W2 end to end: 1080p JPEGs, ResNet-18 DiDiRN 224 RGB K=1000, CP T=4, and the PyTorch reference (~2 min)
	scripts/bench-w2.sh

.PHONY: compose-test
compose-test: setup ## the compose stack for real: private dockerd, local images, a job with workers scaled and killed (docs/operations.md)
	scripts/compose-test.sh

.PHONY: lint
lint: ## gofmt, go vet and golangci-lint (.golangci.yml says why each check is on or off)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	scripts/demo-data.sh
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...

.PHONY: model
model: ## reproduce the shipped models and evaluation tables (14,000 steps: ~95 min on 2 cores, resumable)
	training/scripts/make-models.sh

.PHONY: fixtures
fixtures: ## regenerate the random-weight Go test models in testdata/
	cd training && PYTHONPATH=. $(PY) -m didicm_train fixture --k 10 --out $(CURDIR)/testdata/score-k10.onnx
	cd training && PYTHONPATH=. $(PY) -m didicm_train fixture --k 1000 --parity-images 2 --steps 1 2 --gain 5 \
	  --out $(CURDIR)/testdata/score-k1000.onnx

# W2 benchmark inputs (random weights, synthetic 1080p frames); the PyTorch
# reference on the same weights is training/scripts/torch-reference.py.
W2 = build/w2
W2_FRAMES ?= 128
W2_RANDOM = cd training && PYTHONPATH=. $(PY) -m didicm_train random --layout resnet18 --size 224 --channels 3 --seed 0
W2_LAST = $(W2)/frames/frame-$(shell printf %04d $$(($(W2_FRAMES) - 1))).jpg

.PHONY: w2
w2: $(W2)/didirn-w2.onnx $(W2)/didirn-w2.pt $(W2)/ce-w2.onnx $(W2_LAST) ## W2 inputs in build/w2/: random ResNet-18 score (+ .pt) and CE models (224 RGB, K=1000), W2_FRAMES 1080p JPEGs

.PHONY: w2-k
w2-k: $(foreach k,10000 100000,$(W2)/didirn-w2-k$(k).onnx $(W2)/didirn-w2-k$(k).pt) ## K-scaling score models in build/w2/: didirn-w2-k10000 and -k100000 (.onnx + .pt)

$(W2)/didirn-w2.onnx $(W2)/didirn-w2.pt &:
	mkdir -p $(W2)
	$(W2_RANDOM) --kind score --k 1000 --out $(CURDIR)/$(W2)/didirn-w2.onnx --state $(CURDIR)/$(W2)/didirn-w2.pt

$(W2)/didirn-w2-k%.onnx $(W2)/didirn-w2-k%.pt:
	mkdir -p $(W2)
	$(W2_RANDOM) --kind score --k $* --out $(CURDIR)/$(W2)/didirn-w2-k$*.onnx --state $(CURDIR)/$(W2)/didirn-w2-k$*.pt

$(W2)/ce-w2.onnx:
	mkdir -p $(W2)
	$(W2_RANDOM) --kind classifier --k 1000 --out $(CURDIR)/$@

$(W2_LAST):
	$(PY) training/scripts/w2-frames.py $(W2)/frames $(W2_FRAMES)

# Video test corpus of imaging/video: MNIST digits encoded by Debian's ffmpeg CLI (scripts/video-corpus.sh).
VIDEO_CORPUS = build/video-corpus

.PHONY: video-corpus
video-corpus: $(VIDEO_CORPUS)/corpus.json ## video test corpus in build/video-corpus/ (needs ffmpeg)

$(VIDEO_CORPUS)/corpus.json: scripts/video-corpus.sh
	rm -f $@
	scripts/video-corpus.sh $(VIDEO_CORPUS)

.PHONY: bench-video
bench-video: ## 1080p H.264 sampling on one core against the ffmpeg CLI (~5 min; figures in docs/benchmarks.md)
	scripts/video-corpus.sh --bench $(VIDEO_CORPUS)
	$(GO) test -c -o build/video-bench.test ./imaging/video/ffmpeg
	cd imaging/video/ffmpeg && for r in 1 2 3 4 5; do DIDICM_BENCH_VIDEO=$(CURDIR)/$(VIDEO_CORPUS)/bench-1080p.mp4 \
	  flock /tmp/didicm-bench.lock taskset -c 0 $(CURDIR)/build/video-bench.test -test.run '^$$' -test.bench Sample1080p -test.benchtime 1x; done

.PHONY: bench-scale
bench-scale: $(ORT_LIB) ## archive scale: 1e5 and 1e6 keys on file:// and S3 through enqueue, worker, report and review page, listing alone at 1e7 (~1 h; build/bench/scale.txt, docs/benchmarks.md)
	scripts/bench-scale.sh

# MCAP test corpus of imaging/mcap: logs written by @mcap/core (tools/mcap-writer,
# pinned by its lockfile) from MNIST digits, with a JSON sidecar per file.
MCAP_CORPUS = build/mcap-corpus

.PHONY: mcap-corpus
mcap-corpus: $(MCAP_CORPUS)/corpus.json ## MCAP test corpus in build/mcap-corpus/ (needs node; npm ci of tools/mcap-writer if missing)

$(MCAP_CORPUS)/corpus.json: scripts/mcap-corpus.sh tools/mcap-writer/package-lock.json $(wildcard tools/mcap-writer/*.mjs)
	scripts/mcap-corpus.sh $(MCAP_CORPUS)

# DICOM test corpus of imaging/dicom: files made by Debian's dcmtk and gdcm
# tools, references decoded by pydicom (+GDCM), see training/scripts/dicom-corpus.py.
DICOM_CORPUS = build/dicom-corpus

.PHONY: dicom-corpus
dicom-corpus: $(DICOM_CORPUS)/corpus.json ## DICOM test corpus in build/dicom-corpus/ (needs dcmtk, libgdcm-tools, python3-pydicom, python3-gdcm)

$(DICOM_CORPUS)/corpus.json: training/scripts/dicom-corpus.py training/didicm_train/dicom.py
	rm -rf $(DICOM_CORPUS)
	$(PY) training/scripts/dicom-corpus.py $(DICOM_CORPUS)
