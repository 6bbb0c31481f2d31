#!/usr/bin/env node
// Entry point for the `lathe-worker` command: a committed, executable file, so
// the bin link works even though dist/ is built after `npm ci` creates it.
import '../dist/src/cli.js';
