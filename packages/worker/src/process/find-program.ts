/** Finding an executable the way execvp() does. */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where execvp() would find `file`: as a path (against `cwd`) when it has a slash, else in
 * the directories of `path` (an empty entry is `cwd`). Null when no executable file is there.
 */
export function findProgram(file: string, path: string, cwd: string): string | null {
  const candidates = file.includes('/')
    ? [resolve(cwd, file)]
    : path.split(':').map((dir) => resolve(cwd, dir === '' ? '.' : dir, file));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
