// The bytes of an uploaded archive, decompressed. Gzip with Node's zlib; bzip2 and xz
// through the `bzip2` and `xz` programs as plain byte filters (Node has neither, and the
// pure-JavaScript bzip2 decoders expand whole blocks in memory before anyone can count the
// bytes). Either way the output comes in bounded chunks with backpressure, so the reader
// can stop a compression bomb early, and stopping ends the decompression.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type ArchiveCompression = 'gz' | 'bz2' | 'xz' | null;

/**
 * What an upload sent without `compress` is compressed with, read from its first bytes:
 * Buildbot's master opens such an archive in tarfile's transparent mode, which does the same.
 */
export async function sniffCompression(file: string): Promise<ArchiveCompression> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    const magic = head.subarray(0, bytesRead);
    if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gz';
    if (magic.toString('latin1', 0, 3) === 'BZh') return 'bz2';
    if (magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    return null;
  } finally {
    await fh.close();
  }
}

export function decompressed(file: string, compression: ArchiveCompression): AsyncIterable<Buffer> {
  const input = createReadStream(file);
  if (compression === 'bz2') return throughProgram('bzip2', input);
  if (compression === 'xz') return throughProgram('xz', input);
  const out = compression === 'gz' ? createGunzip() : new PassThrough();
  // Errors reach the reader through `out`; a reader that stops destroys the whole chain.
  pipeline(input, out, () => {});
  return out;
}

async function* throughProgram(program: 'bzip2' | 'xz', input: Readable): AsyncGenerator<Buffer> {
  const child = spawn(program, ['-d', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<string | null>((resolve) => {
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.once('error', (err) => resolve(`cannot run ${program}: ${err.message}`));
    child.once('close', (code) =>
      resolve(code === 0 ? null : `${program}: ${stderr.trim() || `exit status ${code}`}`),
    );
  });
  // A program that stops reading (bad data) shows in its exit status, not here.
  pipeline(input, child.stdin, () => {});
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const problem = await exited;
    if (problem) throw new Error(problem);
  } finally {
    input.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
