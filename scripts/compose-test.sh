#!/usr/bin/env bash
# make compose-test: the shipped docker-compose.yml run for real on this
# machine, with docker-compose.local.yml's images built here (no registry is
# reachable). Steps:
#   1. installs Debian's docker.io and debootstrap if missing, and builds the
#      Compose v2 plugin from its Go module into .cache/compose (once);
#   2. starts a private dockerd: its data root in /var/lib/didicm-compose
#      (outside the repository: image layers hold Go trees that `go list ./...`
#      would walk), its socket and state in /run/didicm-compose, stopped when
#      this script ends;
#   3. makes the base images once: a debootstrap minbase Debian 12 imported as
#      didicm-local/debian:bookworm (with this machine's CA bundle, so builds
#      reach the Go and npm registries through its proxy), and Node.js and Go
#      stand-ins on it (deploy/local/);
#   4. `docker compose build` (worker from deploy/Dockerfile on the local
#      bases, Redis from Debian's package, the S3 store from tools/s3local);
#   5. writes a demo archive (didicm-demo demo --archive-only) and runs
#      deploy/composetest, which brings the stack up and checks it, then
#      the HA stack (docker-compose.ha.yml over it, with
#      deploy/local/docker-compose.ha.yml) with its Redis master killed
#      mid-job (docs/operations.md, "The compose test", §7a).
# Figures go to build/compose/result.json. Removing /var/lib/didicm-compose
# (with no dockerd of ours running) starts over from debootstrap.
#   IMAGES=10000 BATCH=40 STEPS=32 scripts/compose-test.sh   (the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=$ROOT/build/compose
DATA=/var/lib/didicm-compose
RUN=/run/didicm-compose # short: unix socket paths are limited to 108 bytes
IMAGES=${IMAGES:-10000} BATCH=${BATCH:-40} STEPS=${STEPS:-32}
COMPOSE_VERSION=v2.40.3
t0=$(date +%s)
log() { echo "compose-test [$(( $(date +%s) - t0 )) s]: $*" >&2; }

# 1. Tools.
pkgs=()
command -v dockerd >/dev/null || pkgs+=(docker.io)
command -v debootstrap >/dev/null || pkgs+=(debootstrap)
if [ ${#pkgs[@]} -gt 0 ]; then
  log "apt-get install ${pkgs[*]}"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
fi
export DOCKER_CONFIG=$ROOT/.cache/compose
plugin=$DOCKER_CONFIG/cli-plugins/docker-compose
if ! "$plugin" version 2>/dev/null | grep -q "$COMPOSE_VERSION"; then
  # `go install` refuses this module (exclude directives): build it inside its module.
  log "building the Compose plugin $COMPOSE_VERSION from its module (a few minutes, once)"
  dir=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$(dirname "$plugin")"
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" -o "$plugin" ./cmd)
fi

# 2. A private Docker daemon.
mkdir -p "$W" "$DATA" "$RUN"
if [ -e "$RUN/dockerd.pid" ] && kill -0 "$(cat "$RUN/dockerd.pid")" 2>/dev/null; then
  echo "compose-test: a private dockerd from an earlier run is still up (pid $(cat "$RUN/dockerd.pid")); stop it first" >&2
  exit 1
fi
dockerd --data-root "$DATA" --exec-root "$RUN/exec" --pidfile "$RUN/dockerd.pid" \
  -H "unix://$RUN/docker.sock" >"$W/dockerd.log" 2>&1 &
dockerd_pid=$!
stop() {
  kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null
  log "private dockerd stopped"
}
trap stop EXIT
export DOCKER_HOST=unix://$RUN/docker.sock
for _ in $(seq 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
docker version --format 'compose-test: dockerd {{.Server.Version}}' >&2

# 3. Base images (once; they stay in the private data root).
if ! docker image inspect didicm-local/debian:bookworm >/dev/null 2>&1; then
  log "debootstrap --variant=minbase bookworm"
  rm -rf "$W/rootfs"
  debootstrap --variant=minbase bookworm "$W/rootfs" http://deb.debian.org/debian >"$W/debootstrap.log"
  mkdir -p "$W/rootfs/usr/local/share/ca-certificates"
  cp /etc/ssl/certs/ca-certificates.crt "$W/rootfs/usr/local/share/ca-certificates/build-host.crt"
  tar -C "$W/rootfs" -c . | docker import -c 'CMD ["bash"]' - didicm-local/debian:bookworm >/dev/null
  rm -rf "$W/rootfs"
fi
if ! docker image inspect didicm-local/node:bookworm >/dev/null 2>&1; then
  log "building didicm-local/node:bookworm"
  docker build -q -t didicm-local/node:bookworm -f deploy/local/Dockerfile.node deploy/local >/dev/null
fi
if ! docker image inspect didicm-local/golang:1.26 >/dev/null 2>&1; then
  log "building didicm-local/golang:1.26 from this machine's Go"
  goroot=$(go env GOROOT)
  tar -C "$(dirname "$goroot")" -c --exclude="$(basename "$goroot")/test" \
      --transform "s,^$(basename "$goroot"),go," "$(basename "$goroot")" -C "$ROOT/deploy/local" Dockerfile.golang \
    | docker build -q -t didicm-local/golang:1.26 -f Dockerfile.golang - >/dev/null
fi

# 4. The stack's images, built by docker compose from the shipped files.
secret() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
cat >"$W/.env" <<EOF
REDIS_PASSWORD=$(secret)
S3_ACCESS_KEY=didicm
S3_SECRET_KEY=$(secret)
S3_PORT=17070
MONITOR_PORT=18080
LOG_LEVEL=debug
WORKER_MEMORY_BUDGET=1GiB
JOB_ID=compose-test
JOB_INPUT_URL=s3://archive?endpoint=http://s3:7070&use_path_style=true&region=us-east-1
JOB_OUTPUT_URL=s3://results?endpoint=http://s3:7070&use_path_style=true&region=us-east-1
JOB_BATCH_SIZE=$BATCH
JOB_STEPS=$STEPS
JOB_SAMPLER=cp
EOF
chmod 600 "$W/.env"
compose=(docker compose --env-file "$W/.env" -f docker-compose.yml -f docker-compose.local.yml --profile cpu)
log "docker compose build"
build0=$(date +%s)
"${compose[@]}" build --quiet
log "images built in $(( $(date +%s) - build0 )) s"

# 5. The demo archive, then the test.
make -s build-demo >/dev/null
rm -rf "$W/demo" # ours: made by the previous run
bin/didicm-demo demo --archive-only --dir "$W/demo" --images "$IMAGES" >&2
log "running deploy/composetest"
COMPOSE_ENV_FILE=$W/.env COMPOSE_DEMO_DIR=$W/demo COMPOSE_RESULT=$W/result.json \
  go test -tags composetest -count 1 -v -timeout 40m ./deploy/composetest
log "passed; figures in build/compose/result.json"
cat "$W/result.json"
