// Extracts a worker's tar stream into a master directory under rules that hold whatever the
// worker sends and whoever the master runs as:
// - nothing is written outside the destination: member names with `..` are refused, and
//   extraction never goes through a symlink (a parent that is one, left by this archive or
//   an earlier upload, refuses the member; a symlink at a member's own path is replaced);
// - a symlink is created only when its target stays inside the destination, resolved
//   without passing `..` through anything but a real directory; others are skipped;
// - hard links only to regular files already inside; devices, FIFOs and unknown types are
//   skipped;
// - no owners are restored, setuid/setgid/sticky bits are dropped, and files and
//   directories are created with the archive's permission bits, which the process umask
//   narrows as for any file the master creates;
// - `limit` bounds the bytes after decompression, so a compression bomb stops early.
import { constants } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, readlink, symlink, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type TarEntry, type TarEvent, TarParser } from './tar-parser.js';

/** An upload broke an extraction rule, or exceeded its size; nothing outside was touched. */
export class UnsafeArchiveError extends Error {
  override readonly name = 'UnsafeArchiveError';
}

/** The decompressed stream is larger than the upload may be. */
export class UploadTooLargeError extends Error {
  override readonly name = 'UploadTooLargeError';
  constructor(readonly limit: number) {
    super(`the upload is larger than ${limit} bytes after decompression`);
  }
}

export interface ExtractResult {
  /** One line per member that was skipped, and why (for the step's log). */
  readonly skipped: string[];
}

const PERMISSIONS = 0o777;
/** Symlinks followed when checking where a new one leads (Linux stops at 40 in a path). */
const MAX_LINK_DEPTH = 8;
const WRITE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export async function extractTar(
  chunks: AsyncIterable<Buffer>,
  destination: string,
  limit: number,
): Promise<ExtractResult> {
  await mkdir(destination, { recursive: true, mode: 0o700 });
  const parser = new TarParser();
  const extractor = new Extractor(destination);
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      if (bytes > limit) throw new UploadTooLargeError(limit);
      for (const event of parser.push(chunk)) await extractor.apply(event);
      if (parser.ended) break;
    }
    for (const event of parser.finish()) await extractor.apply(event);
  } finally {
    await extractor.closeOpenFile();
  }
  return { skipped: extractor.skipped };
}

class Extractor {
  readonly skipped: string[] = [];
  #file: { fh: FileHandle; mtime: number } | null = null;

  constructor(readonly root: string) {}

  async apply(event: TarEvent): Promise<void> {
    if (event.kind === 'data') {
      await this.#file?.fh.write(event.bytes);
      return;
    }
    await this.#finishFile();
    if (event.kind === 'entry') await this.#entry(event.entry);
  }

  async closeOpenFile(): Promise<void> {
    await this.#file?.fh.close().catch(() => {});
    this.#file = null;
  }

  async #finishFile(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = null;
    try {
      await file.fh.utimes(file.mtime, file.mtime);
    } finally {
      await file.fh.close();
    }
  }

  async #entry(entry: TarEntry): Promise<void> {
    const parts = memberParts(entry.path);
    if (parts.length === 0) return; // the destination itself
    const name = parts.join('/');
    if (entry.type === 'other') {
      this.skipped.push(`${name}: type '${entry.typeflag}' (device, FIFO or unknown) not extracted`);
      return;
    }
    const parent = await this.#parentDir(parts, name);
    const path = join(parent, parts.at(-1)!);
    const mode = entry.mode & PERMISSIONS;
    switch (entry.type) {
      case 'directory':
        if ((await kindAt(path)) === 'directory') return;
        await this.#clear(path, name);
        // The owner keeps access, or later members could not go in.
        await mkdir(path, { mode: mode | 0o700 });
        return;
      case 'file': {
        await this.#clear(path, name);
        const fh = await open(path, WRITE_NEW, mode);
        this.#file = { fh, mtime: entry.mtime };
        return;
      }
      case 'symlink': {
        const problem = await this.#linkProblem(parts, entry.linkpath);
        if (problem) {
          this.skipped.push(`${name} -> ${entry.linkpath}: ${problem}`);
          return;
        }
        await this.#clear(path, name);
        await symlink(entry.linkpath, path);
        return;
      }
      case 'hardlink': {
        const target = await this.#extractedFile(memberParts(entry.linkpath));
        if (target === null) {
          this.skipped.push(`${name} => ${entry.linkpath}: not a regular file extracted here`);
          return;
        }
        await this.#clear(path, name);
        await link(target, path);
        return;
      }
    }
  }

  /** The real directory a member goes into, made as needed; never through a symlink. */
  async #parentDir(parts: readonly string[], name: string): Promise<string> {
    let dir = this.root;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      const kind = await kindAt(dir);
      if (kind === 'missing') await mkdir(dir, { mode: 0o700 });
      else if (kind !== 'directory') {
        throw new UnsafeArchiveError(`${name}: ${part} is a ${kind}, not a directory; not followed`);
      }
    }
    return dir;
  }

  /** The path of a regular file already below the destination, reached through real directories only. */
  async #extractedFile(parts: readonly string[]): Promise<string | null> {
    if (parts.length === 0) return null;
    let path = this.root;
    for (const [i, part] of parts.entries()) {
      path = join(path, part);
      if ((await kindAt(path)) !== (i === parts.length - 1 ? 'file' : 'directory')) return null;
    }
    return path;
  }

  /** Makes room at `path`: a file or link there is removed (never followed), a directory stays. */
  async #clear(path: string, name: string): Promise<void> {
    const kind = await kindAt(path);
    if (kind === 'missing') return;
    if (kind === 'directory') throw new UnsafeArchiveError(`${name}: a directory is in the way`);
    await unlink(path);
  }

  /**
   * Why a symlink at `parts` to `target` could lead outside, or null when it cannot: the
   * target is resolved from the link's directory; `..` may only step back out of a directory
   * that really is one (after a symlink, `..` is not where it seems), and a symlink already
   * on the way (one an earlier upload or anyone else left) must itself stay inside.
   */
  async #linkProblem(parts: readonly string[], target: string, depth = 0): Promise<string | null> {
    if (target === '' || isAbsolute(target)) return 'absolute target, not created';
    if (depth > MAX_LINK_DEPTH) return 'too many symlinks on the way, not created';
    const stack = parts.slice(0, -1);
    for (const step of target.split('/').filter((s) => s !== '' && s !== '.')) {
      if (step === '..') {
        if (stack.length === 0) return 'target outside the destination, not created';
        if ((await kindAt(join(this.root, ...stack))) !== 'directory') {
          return "'..' after something that is not a directory, not created";
        }
        stack.pop();
        continue;
      }
      stack.push(step);
      const via = join(this.root, ...stack);
      if (
        (await kindAt(via)) === 'symlink' &&
        (await this.#linkProblem(stack, await readlink(via), depth + 1))
      ) {
        return `goes through ${stack.join('/')}, a symlink leading outside; not created`;
      }
    }
    return null;
  }
}

/** A member's path as components below the destination; `..` anywhere is refused. */
function memberParts(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeArchiveError(`${path}: leaves the destination`);
  return parts;
}

type Kind = 'missing' | 'directory' | 'file' | 'symlink' | 'special file';

async function kindAt(path: string): Promise<Kind> {
  try {
    const st = await lstat(path);
    if (st.isDirectory()) return 'directory';
    if (st.isSymbolicLink()) return 'symlink';
    return st.isFile() ? 'file' : 'special file';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}
