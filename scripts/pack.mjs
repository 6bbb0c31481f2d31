#!/usr/bin/env node
// Packs a Lathe package as a tarball that installs on its own: `npm pack` of the package with
// every first-party (@lathe/*) package it depends on, directly or not, bundled inside
// (bundleDependencies). Those are not on the npm registry; third-party dependencies are, and
// stay ordinary dependencies. So `npm install -g ./lathe-worker-0.1.0.tgz` works on any
// machine with Node.js and npm.
//
//   node scripts/pack.mjs [--out DIR] [package…]   (default: packages/worker packages/master)
//
// Prints each tarball's path. Run it after a build: the tarballs hold dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FIRST_PARTY = /^@lathe\//;

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** Workspace package name → its directory. */
function workspaces() {
  const map = new Map();
  for (const dir of readJson(join(ROOT, 'package.json')).workspaces ?? []) {
    const pkg = readJson(join(ROOT, dir, 'package.json'));
    map.set(pkg.name, join(ROOT, dir));
  }
  return map;
}

/** The first-party packages `name` depends on, directly or not. */
function firstPartyClosure(name, dirs, seen = new Set()) {
  const deps = readJson(join(dirs.get(name), 'package.json')).dependencies ?? {};
  for (const dep of Object.keys(deps)) {
    if (!FIRST_PARTY.test(dep) || seen.has(dep)) continue;
    if (!dirs.has(dep)) throw new Error(`${name} depends on ${dep}, which is not a workspace package`);
    seen.add(dep);
    firstPartyClosure(dep, dirs, seen);
  }
  return seen;
}

/** `npm pack` of one directory into `dest`; returns the tarball's path. */
function npmPack(dir, dest) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return join(dest, JSON.parse(out)[0].filename);
}

function unpack(tarball, dest) {
  mkdirSync(dest, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dest, '--strip-components=1']);
}

/** Packs workspace package `dir` with its first-party dependencies bundled; returns the tarball. */
export function packWithFirstPartyDeps(dir, outDir) {
  const dirs = workspaces();
  const pkg = readJson(join(resolve(dir), 'package.json'));
  const bundled = [...firstPartyClosure(pkg.name, dirs)].sort();
  const work = mkdtempSync(join(tmpdir(), 'lathe-pack-'));
  try {
    const stage = join(work, 'package');
    unpack(npmPack(dirs.get(pkg.name), work), stage);
    const dependencies = { ...(pkg.dependencies ?? {}) };
    for (const name of bundled) {
      const target = join(stage, 'node_modules', name);
      unpack(npmPack(dirs.get(name), work), target);
      const inner = readJson(join(target, 'package.json'));
      dependencies[name] = inner.version;
      // A bundled package's third-party dependencies are installed next to it, from the registry.
      for (const [dep, range] of Object.entries(inner.dependencies ?? {}))
        if (!FIRST_PARTY.test(dep) && !(dep in dependencies)) dependencies[dep] = range;
    }
    const staged = readJson(join(stage, 'package.json'));
    delete staged.devDependencies;
    delete staged.scripts;
    writeFileSync(
      join(stage, 'package.json'),
      `${JSON.stringify({ ...staged, dependencies, bundleDependencies: bundled }, null, 2)}\n`,
    );
    mkdirSync(outDir, { recursive: true });
    return npmPack(stage, resolve(outDir));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('usage: node scripts/pack.mjs [--out DIR] [package-dir…]');
    process.exit(0);
  }
  const packages =
    positionals.length > 0 ? positionals : [join(ROOT, 'packages/worker'), join(ROOT, 'packages/master')];
  for (const dir of packages) console.log(packWithFirstPartyDeps(resolve(dir), values.out ?? '.'));
}
