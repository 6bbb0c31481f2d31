/**
 * The archive stream of uploadDirectory, compressed as the master asked. gzip
 * comes from node:zlib; Node.js has no bzip2, so 'bz2' pipes through the
 * system's `bzip2` program (in its own process group, killed on close).
 */
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { killProcessTree } from '../process/process-tree.js';
import { WorkerFailure } from '../protocol/failure.js';
import { StreamSource } from './byte-source.js';
import { tarDirectory } from './tar.js';

export function compressedArchive(root: string, compress: 'gz' | 'bz2' | null): StreamSource {
  const tar = Readable.from(tarDirectory(root), { objectMode: false });
  if (compress === null) return new StreamSource(tar, () => tar.destroy());
  if (compress === 'gz') {
    const gzip = createGzip();
    pipeline(tar, gzip).catch((err) => gzip.destroy(err));
    return new StreamSource(gzip, () => {
      tar.destroy();
      gzip.destroy();
    });
  }
  return throughProgram(tar, 'bzip2', ['-c']);
}

function throughProgram(input: Readable, program: string, args: string[]): StreamSource {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
  const output = new Readable({ read() {} });
  let failed: Error | undefined;
  child.on('error', (err) => {
    failed = new WorkerFailure(
      'builtins.RuntimeError',
      `${program} compression needs the ${program} program: ${err.message}`,
    );
    output.destroy(failed);
  });
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
  child.on('close', (code) => {
    if (failed) return;
    if (code === 0) output.push(null);
    else output.destroy(new WorkerFailure('builtins.RuntimeError', `${program} exited with status ${code}`));
  });
  child.stdin!.on('error', () => {}); // reported through the exit status
  pipeline(input, child.stdin!).catch((err) => output.destroy(err));
  return new StreamSource(output, () => {
    input.destroy();
    if (child.pid !== undefined && child.exitCode === null) killProcessTree(child.pid, 9);
  });
}
