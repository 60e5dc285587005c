#!/bin/sh
# Makes sure the server binaries the integration-test harness starts are on this machine:
# PostgreSQL (initdb + postgres), redis-server + redis-cli, and a MongoDB-protocol
# server (mongod if present, else FerretDB v1 built from the Go module proxy into .tools/bin),
# Chromium for the example app's browser test (test/example/e2e.test.ts), and wrk, the load
# generator of the benchmark (test/bench).
#
# Why a script and not the TS harness: installing takes minutes and needs root/apt/go;
# it runs once before vitest, is idempotent and returns in milliseconds when all is there.
# A server given by URL (POSTGRES_URL, REDIS_URL + REDIS_CLUSTER_URLS, MONGODB_URL) is not
# needed locally, so nothing is installed for it. Anything that cannot be installed makes
# the script fail with a message naming what to install: the suite never skips silently.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
FERRETDB_VERSION=v1.24.2
ferret="$root/.tools/bin/ferretdb"

log() { echo "services:ensure: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }

# Debian keeps server binaries off PATH, in /usr/lib/postgresql/<major>/bin.
pg_ok() {
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
      return 0
    fi
  done
  have initdb && have postgres
}

# FerretDB counts only when it runs: a binary built without build/version/version.txt
# panics at start-up, so `--version` is the real check (and pins the version).
ferret_ok() { [ -x "$ferret" ] && "$ferret" --version 2>/dev/null | grep -q "$FERRETDB_VERSION"; }

need_pg=0 need_redis=0 need_redis_cli=0 need_mongo=0 need_chromium=0 need_wrk=0 need_python=0
[ -z "${POSTGRES_URL:-}" ] && ! pg_ok && need_pg=1
if [ -z "${REDIS_URL:-}" ] || [ -z "${REDIS_CLUSTER_URLS:-}" ]; then
  have redis-server || need_redis=1
fi
# redis-cli creates the cluster (--cluster create); only needed when we start the cluster.
[ -z "${REDIS_CLUSTER_URLS:-}" ] && ! have redis-cli && need_redis_cli=1
[ -z "${MONGODB_URL:-}" ] && ! have mongod && ! ferret_ok && need_mongo=1
# Debian's own build, driven by playwright-core: no browser download from a CDN.
[ -z "${CHROMIUM_PATH:-}" ] && ! have chromium && need_chromium=1
# The load generator of the benchmark (test/bench), whose smoke test is part of the suite.
have wrk || need_wrk=1
# Schemathesis (test/schemathesis) runs in a venv of Python 3.11+ that its test makes.
python_ok() { python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
python_ok || need_python=1

# The harness runs PostgreSQL as this unprivileged user when the suite runs as root
# (postgres refuses root). Creating it is cheap; without it the harness falls back to nobody.
if is_root && have useradd && ! id tessera >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin tessera 2>/dev/null || log "could not create user tessera (using nobody)"
fi

pkgs=""
[ $need_pg = 1 ] && pkgs="$pkgs postgresql"
[ $need_redis = 1 ] && pkgs="$pkgs redis-server"
[ $need_redis_cli = 1 ] && pkgs="$pkgs redis-tools"
[ $need_chromium = 1 ] && pkgs="$pkgs chromium"
[ $need_wrk = 1 ] && pkgs="$pkgs wrk"
[ $need_python = 1 ] && pkgs="$pkgs python3 python3-venv"

if [ -n "$pkgs" ] && is_root && have apt-get; then
  log "installing with apt-get:$pkgs"
  # Debian's postinst would start system-wide postgres/redis services on 5432/6379 that the
  # suite never uses; a policy-rc.d answering 101 stops that (left alone if one exists).
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap 'if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >&2
fi

if [ $need_mongo = 1 ] && ! have mongod; then
  go=$(command -v go || true)
  [ -z "$go" ] && [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go
  if [ -n "$go" ]; then
    log "building FerretDB $FERRETDB_VERSION into .tools/bin (a few minutes the first time)"
    start=$(date +%s)
    # Not `go install …@version`: that module build lacks build/version/version.txt (a file
    # FerretDB generates at release time), so the binary panics on start. Instead download the
    # module source, add version.txt, and build it. No build tags are needed: the SQLite
    # backend is compiled in unless `ferretdb_no_sqlite` is set.
    src=$("$go" mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    work="$root/.tools/src/ferretdb-$FERRETDB_VERSION"
    rm -rf "$work" && mkdir -p "$work" "$root/.tools/bin"
    cp -R "$src/." "$work" && chmod -R u+w "$work"
    echo "$FERRETDB_VERSION" >"$work/build/version/version.txt"
    (cd "$work" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false "$go" build -trimpath \
      -o "$ferret" ./cmd/ferretdb) >&2
    rm -rf "$work" && rmdir "$root/.tools/src" 2>/dev/null || true
    log "FerretDB built in $(($(date +%s) - start)) s"
  fi
fi

# Re-check everything: report exactly what is still missing and how to get it.
problems=""
[ -z "${POSTGRES_URL:-}" ] && ! pg_ok &&
  problems="$problems\n  - PostgreSQL server binaries (apt-get install postgresql), or set POSTGRES_URL"
if [ -z "${REDIS_URL:-}" ] || [ -z "${REDIS_CLUSTER_URLS:-}" ]; then
  have redis-server ||
    problems="$problems\n  - redis-server (apt-get install redis-server), or set REDIS_URL and REDIS_CLUSTER_URLS"
fi
[ -z "${REDIS_CLUSTER_URLS:-}" ] && ! have redis-cli &&
  problems="$problems\n  - redis-cli (apt-get install redis-tools), or set REDIS_CLUSTER_URLS"
[ -z "${MONGODB_URL:-}" ] && ! have mongod && ! ferret_ok &&
  problems="$problems\n  - a MongoDB-protocol server: mongod on PATH, or Go >= 1.24 to build FerretDB, or set MONGODB_URL"
[ -z "${CHROMIUM_PATH:-}" ] && ! have chromium &&
  problems="$problems\n  - chromium (apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary"
have wrk || problems="$problems\n  - wrk, the benchmark's load generator (apt-get install wrk)"
python_ok || problems="$problems\n  - Python 3.11+ with venv, for Schemathesis (apt-get install python3 python3-venv)"
if [ -n "$problems" ]; then
  printf 'services:ensure: cannot run the integration tests, missing:%b\n' "$problems" >&2
  [ "$(id -u)" != 0 ] && echo "services:ensure: (run as root to let this script apt-get install)" >&2
  exit 1
fi
