// Removes what file uploads leave behind when the master dies mid-transfer: the temporary
// file a FileWriter receives into (`.<pid>.<n>.lathe-upload`, next to the destination) and
// the archive a DirectoryWriter unpacks (`<dest>.lathe-tar`). Run at start-up, before any
// upload can be under way; one master owns its directory, so every such file there is stale.
// Only the master directory is searched: a destination outside it is not known after a crash.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const LEFTOVER = /^\.\d+\.\d+\.lathe-upload$|\.lathe-tar$/;

/** Deletes upload leftovers under `basedir` (symlinks are not followed); returns their paths. */
export async function removeUploadLeftovers(basedir: string): Promise<string[]> {
  const entries = await readdir(basedir, { recursive: true, withFileTypes: true });
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !LEFTOVER.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}
