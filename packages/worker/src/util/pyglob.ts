/**
 * Python's `glob.glob(pattern, recursive=True)` for POSIX paths: `*`, `?` and
 * `[...]` within one path component, `**` across any number of directories,
 * names starting with '.' only matched by patterns that start with '.', results
 * in directory order. Unreadable directories simply yield nothing.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { pyJoin } from './pypath.js';

const magic = /[*?[]/;

export function pyGlob(pattern: string): string[] {
  return [...iglob(pattern, false)];
}

function* iglob(pathname: string, dirOnly: boolean): Generator<string> {
  const [dirname, basename] = split(pathname);
  if (!magic.test(pathname)) {
    if (basename ? lexists(pathname) : isDir(dirname)) yield pathname;
    return;
  }
  if (!dirname) {
    yield* globIn('', basename, dirOnly);
    return;
  }
  const dirs = dirname !== pathname && magic.test(dirname) ? iglob(dirname, true) : [dirname];
  for (const dir of dirs) {
    for (const name of globIn(dir, basename, dirOnly)) yield pyJoin(dir, name);
  }
}

function globIn(dir: string, pattern: string, dirOnly: boolean): Iterable<string> {
  if (pattern === '**') return recursive(dir, dirOnly);
  if (magic.test(pattern)) return matching(dir, pattern, dirOnly);
  return literal(dir, pattern);
}

function* literal(dir: string, name: string): Generator<string> {
  if (name === '' ? isDir(dir) : lexists(pyJoin(dir || '.', name))) yield name;
}

function* matching(dir: string, pattern: string, dirOnly: boolean): Generator<string> {
  const re = translate(pattern);
  const hiddenOk = pattern.startsWith('.');
  for (const name of list(dir || '.', dirOnly)) {
    if (!hiddenOk && name.startsWith('.')) continue;
    if (re.test(name)) yield name;
  }
}

/** `**`: '' (the directory itself) and everything below it, depth first. */
function* recursive(dir: string, dirOnly: boolean): Generator<string> {
  yield '';
  yield* below(dir, '', dirOnly);
}

function* below(dir: string, prefix: string, dirOnly: boolean): Generator<string> {
  for (const name of list(pyJoin(dir || '.', prefix), dirOnly)) {
    if (name.startsWith('.')) continue;
    const rel = prefix ? pyJoin(prefix, name) : name;
    yield rel;
    if (isDir(pyJoin(dir || '.', rel))) yield* below(dir, rel, dirOnly);
  }
}

function list(dir: string, dirOnly: boolean): string[] {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    return entries
      .filter((e) => !dirOnly || e.isDirectory() || (e.isSymbolicLink() && isDir(pyJoin(dir, e.name))))
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function split(p: string): [string, string] {
  const i = p.lastIndexOf('/') + 1;
  let head = p.slice(0, i);
  if (head && head !== '/'.repeat(head.length)) head = head.replace(/\/+$/, '');
  return [head, p.slice(i)];
}

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p || '.').isDirectory();
  } catch {
    return false;
  }
}

/** fnmatch.translate: a whole-name regular expression for one component. */
export function translate(pattern: string): RegExp {
  let re = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i++]!;
    if (c === '*') {
      while (pattern[i] === '*') i++;
      re += '.*';
    } else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) re += '\\[';
      else {
        let body = pattern.slice(i, j).replaceAll('\\', '\\\\');
        i = j + 1;
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        re += `[${body}]`;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
