#!/usr/bin/env node
// `./dev install [--prefix DIR]`: puts `lathe` and `lathe-worker` on PATH as commands that keep
// working on their own: the packages (scripts/pack.mjs tarballs) and the Node.js running this
// script (the project's Node 24; the master needs >= 22.18) are copied into DIR/lib/lathe, and
// DIR/bin gets two small scripts that run them. Nothing points back into the clone, so a
// `git pull`, a rebuild or removing the clone leaves the installed commands alone; running
// `./dev install` again replaces them. Default DIR: ~/.local (its bin/ is on PATH on most
// systems).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packWithFirstPartyDeps } from './pack.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { WORKER_NODE_FLAGS } = await import(join(ROOT, 'packages/worker/dist/src/node-flags.js'));

const help = `usage: ./dev install [--prefix DIR]

Installs the lathe and lathe-worker commands into DIR/bin (default ~/.local/bin),
with the packages and this project's Node.js in DIR/lib/lathe. Run it again to
update them; remove DIR/lib/lathe, DIR/bin/lathe and DIR/bin/lathe-worker to
uninstall.
`;

const { values } = parseArgs({
  options: { prefix: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(help);
  process.exit(0);
}
const prefix = resolve(values.prefix ?? join(homedir(), '.local'));
const lib = join(prefix, 'lib', 'lathe');
const bin = join(prefix, 'bin');

const work = mkdtempSync(join(tmpdir(), 'lathe-install-'));
try {
  const tarballs = ['packages/master', 'packages/worker'].map((p) =>
    packWithFirstPartyDeps(join(ROOT, p), work),
  );
  rmSync(lib, { recursive: true, force: true });
  const node = join(lib, 'node', 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true });
  cpSync(process.execPath, node);
  chmodSync(node, 0o755);
  // A global-style install into lib: both packages side by side in lib/lib/node_modules, so
  // `lathe quickstart` finds the worker, and npm fetches the master's third-party dependencies.
  execFileSync(
    'npm',
    ['install', '--global', '--prefix', lib, '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const modules = join(lib, 'lib', 'node_modules', '@lathe');
  mkdirSync(bin, { recursive: true });
  wrapper(join(bin, 'lathe'), node, [], join(modules, 'master', 'bin', 'lathe.js'));
  wrapper(
    join(bin, 'lathe-worker'),
    node,
    WORKER_NODE_FLAGS,
    join(modules, 'worker', 'bin', 'lathe-worker.js'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`installed lathe and lathe-worker into ${bin} (Node.js ${process.version} in ${lib})`);
const onPath = (process.env.PATH ?? '').split(delimiter).some((d) => resolve(d || '.') === bin);
if (!onPath) console.log(`${bin} is not on your PATH; add it, e.g.: export PATH="${bin}:$PATH"`);

function wrapper(path, node, flags, script) {
  const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeFileSync(
    path,
    "#!/bin/sh\n# Installed by Lathe's ./dev install (run it again to update).\n" +
      `exec ${[node, ...flags, script].map(quote).join(' ')} "$@"\n`,
  );
  chmodSync(path, 0o755);
}
