/**
 * `uploadFile`: send a worker file to the master's FileWriter in blocks, then
 * `close()` and, with `keepstamp`, `utime((atime, mtime))` (after close, as
 * Buildbot does).
 */

import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { float, tuple } from '../protocol/values.js';
import { FileSource } from '../transfer/byte-source.js';
import { sendBlocks } from '../transfer/send-blocks.js';
import { expandUser, pyJoin } from '../util/pypath.js';
import { boolArg, numberArg, textArg } from './args.js';
import { TransferCommand } from './transfer-command.js';

export class UploadFileCommand extends TransferCommand {
  static readonly requiredArgs = ['workdir', 'workersrc', 'writer', 'maxsize', 'blocksize'];

  protected async start(): Promise<void> {
    const source = textArg(this.args, 'workersrc');
    const path = pyJoin(this.context.builderDir, textArg(this.args, 'workdir'), expandUser(source));
    const writer = this.context.remotes.writer(this.args.writer);
    const keepstamp = boolArg(this.args, 'keepstamp', false);

    let file: FileSource | undefined;
    let times: [number, number] | undefined;
    try {
      const st = statSync(path, { bigint: true });
      if (st.isDirectory()) throw new Error('is a directory');
      times = [secondsOf(st.atimeNs), secondsOf(st.mtimeNs)];
      file = new FileSource(await open(path, 'r'));
    } catch {
      this.setError(`Cannot open file '${path}' for upload`);
    }
    this.sendStatus([['header', `sending ${path}\n`]]);

    try {
      if (file) {
        const result = await sendBlocks(file, (block) => writer.write(block), {
          blocksize: numberArg(this.args, 'blocksize') ?? 16384,
          maxsize: numberArg(this.args, 'maxsize'),
          stopped: () => this.interrupted,
        });
        if (result === 'truncated') this.setError(`Maximum filesize reached, truncating file '${path}'`);
      }
    } catch (err) {
      this.rc = 1;
      await file?.close().catch(() => {});
      await writer.close().catch(() => {}); // the write error is the one to report
      this.sendResult();
      throw err;
    }
    try {
      await file?.close();
      await writer.close();
      if (keepstamp && times) await writer.utime(tuple(float(times[0]), float(times[1])));
    } finally {
      this.sendResult();
    }
  }
}

/** Float seconds from nanoseconds, computed as Python's st_atime/st_mtime are. */
function secondsOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) * 1e-9;
}
