// The repository's structure, checked so that it does not quietly regress: the steps do not
// import the config (the config ↔ steps import circle stays ended), the build process lives
// in src/process, the worker and the daemon kit stay free of third-party runtime packages,
// and the daemon kit (pid file, rotating log) exists once, in @lathe/daemon.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

// Compiled to packages/master/dist/test/: the repository is four levels up.
const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const packages = join(root, 'packages');

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.[cm]?tsx?$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every module specifier a file imports or re-exports, statically or dynamically. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.push(m[1]!);
  return specs;
}

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function packageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')) as PackageJson;
}

/** The workspace packages by npm name, e.g. `@lathe/pb` → `pb`. */
const workspaceDirs = new Map(
  readdirSync(packages)
    .filter((d) => existsSync(join(packages, d, 'package.json')))
    .map((d) => [packageJson(d).name, d] as const),
);

/** The runtime packages `dir` needs, itself through its workspace dependencies; third-party ones by name. */
function thirdPartyRuntimeDeps(dir: string, seen = new Set<string>()): string[] {
  if (seen.has(dir)) return [];
  seen.add(dir);
  const pkg = packageJson(dir);
  const names = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies });
  return names.flatMap((name) => {
    const ws = workspaceDirs.get(name);
    return ws === undefined ? [name] : thirdPartyRuntimeDeps(ws, seen);
  });
}

/** Bare specifiers (not relative, not `node:`) its source imports, and from where. */
function packageImports(dir: string): { spec: string; file: string }[] {
  return sourceFiles(join(packages, dir, 'src')).flatMap((file) =>
    importsOf(file)
      .filter((spec) => !spec.startsWith('.') && !spec.startsWith('node:'))
      .map((spec) => ({ spec, file: relative(root, file) })),
  );
}

describe('repository layout', () => {
  it('finds the sources it checks (the checks below are not vacuous)', () => {
    assert.ok(sourceFiles(join(packages, 'master', 'src', 'steps')).length > 5);
    assert.ok(sourceFiles(join(packages, 'worker', 'src')).length > 20);
    assert.ok(sourceFiles(join(packages, 'daemon', 'src')).length > 0);
    assert.ok(importsOf(join(packages, 'master', 'src', 'steps', 'shell.ts')).length > 0);
  });

  it('no file under steps/ imports from config/', () => {
    const steps = join(packages, 'master', 'src', 'steps');
    const config = join(packages, 'master', 'src', 'config');
    const offending = sourceFiles(steps).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('.'))
        .filter((spec) => {
          const target = resolve(dirname(file), spec);
          return target === config || target.startsWith(`${config}/`);
        })
        .map((spec) => `${relative(root, file)} imports ${spec}`),
    );
    assert.deepEqual(offending, []);
  });

  it('has no src/build directory (the build process lives in src/process)', () => {
    assert.ok(!existsSync(join(packages, 'master', 'src', 'build')));
    assert.ok(existsSync(join(packages, 'master', 'src', 'process', 'build.ts')));
  });

  it('the worker and the daemon kit depend on no third-party runtime package', () => {
    for (const dir of ['worker', 'daemon']) {
      assert.deepEqual(thirdPartyRuntimeDeps(dir), [], `${dir}'s runtime dependencies`);
      const declared = new Set(Object.keys(packageJson(dir).dependencies ?? {}));
      // An undeclared import would still resolve from the hoisted node_modules here.
      const undeclared = packageImports(dir).filter(({ spec }) => {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        return !declared.has(name);
      });
      assert.deepEqual(
        undeclared,
        [],
        `${dir} imports only node: modules and its declared workspace packages`,
      );
    }
    assert.deepEqual(packageJson('daemon').dependencies ?? {}, {}, '@lathe/daemon has no dependencies');
  });

  it('master and worker use the daemon kit instead of their own pid file and rotating log', () => {
    const own = /\bclass\s+RotatingLog\b|\bfunction\s+(?:claimPidFile|releasePidFile|readPid)\b/;
    const offending = ['master', 'worker'].flatMap((dir) =>
      sourceFiles(join(packages, dir, 'src'))
        .filter(
          (file) =>
            ['pid-file.ts', 'rotating-log.ts'].includes(basename(file)) ||
            own.test(readFileSync(file, 'utf8')),
        )
        .map((file) => relative(root, file)),
    );
    assert.deepEqual(offending, []);
    for (const dir of ['master', 'worker'])
      assert.ok(packageJson(dir).dependencies?.['@lathe/daemon'], `${dir} depends on @lathe/daemon`);
  });
});
