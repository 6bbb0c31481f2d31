/**
 * Path handling as Buildbot's Python worker does it. Masters send paths relative
 * to the builder directory and expect `os.path.join` semantics: no
 * normalisation, and an absolute component replaces everything before it.
 * Headers show these paths verbatim, so `path.join` (which normalises) won't do.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';

export function pyJoin(first: string, ...rest: string[]): string {
  let out = first;
  for (const part of rest) {
    if (part.startsWith('/')) out = part;
    else if (out === '' || out.endsWith('/')) out += part;
    else out += `/${part}`;
  }
  return out;
}

/** `os.path.dirname`: everything before the last slash, trailing slashes kept off. */
export function pyDirname(p: string): string {
  const i = p.lastIndexOf('/') + 1;
  const head = p.slice(0, i);
  return head && head !== '/'.repeat(head.length) ? head.replace(/\/+$/, '') : head;
}

/** `os.path.expanduser`: `~` and `~user` at the start of a path. */
export function expandUser(p: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!p.startsWith('~')) return p;
  const slash = p.indexOf('/', 1);
  const end = slash === -1 ? p.length : slash;
  const user = p.slice(1, end);
  let home: string | undefined;
  if (user === '') home = env.HOME ?? homedir();
  else home = homeOf(user);
  if (home === undefined) return p;
  home = home.replace(/\/+$/, '') || '/';
  return home + p.slice(end);
}

function homeOf(user: string): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === user && fields[5] !== undefined) return fields[5];
    }
  } catch {
    // No passwd database: leave the path as it is, as Python does.
  }
  return undefined;
}
