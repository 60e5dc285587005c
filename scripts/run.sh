#!/bin/sh
# Runs a command with the repo's own toolchain on PATH (Node 24 and pnpm from the npm
# registry, pinned in tools/toolchain), installing it and the workspace first.
# Why: the machines we target ship an end-of-life Node 20; the README's commands must
# work there unchanged, so the repo brings its runtime itself. Needs only npm.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tc="$root/tools/toolchain"
stamp="$tc/node_modules/.installed"
# Versions are pinned exactly in package.json; no lock file because npm's lock for pnpm's
# per-platform optional packages does not round-trip through `npm ci`.
if [ ! -x "$tc/node_modules/.bin/node" ] || [ ! -f "$stamp" ] || [ "$tc/package.json" -nt "$stamp" ]; then
  echo "tessera: installing toolchain (Node + pnpm from the npm registry)…" >&2
  (cd "$tc" && npm install --no-package-lock --no-audit --no-fund --loglevel=error) >&2
  touch "$stamp"
fi
PATH="$tc/node_modules/.bin:$PATH"
export PATH
cd "$root"
if [ "${TESSERA_SKIP_INSTALL:-}" != "1" ]; then
  if [ -n "${CI:-}" ]; then
    pnpm install --frozen-lockfile --reporter=append-only >&2
  else
    pnpm install --prefer-offline --reporter=silent >&2
  fi
fi
exec "$@"
