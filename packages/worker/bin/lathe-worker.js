#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point for the `lathe-worker` command: a committed, executable file, so
// the bin link works even though dist/ is built after `npm ci` creates it. The flag
// is WORKER_NODE_FLAGS (src/node-flags.ts).
import '../dist/src/cli.js';
