/**
 * `downloadFile`: read a file from the master's FileReader block by block into
 * a worker file (parents created, `mode` applied), then `close()` the reader.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { expandUser, pyDirname, pyJoin } from '../util/pypath.js';
import { numberArg, textArg } from './args.js';
import { TransferCommand } from './transfer-command.js';

const encoder = new TextEncoder();

export class DownloadFileCommand extends TransferCommand {
  static readonly requiredArgs = ['workdir', 'workerdest', 'reader', 'maxsize', 'blocksize', 'mode'];

  protected async start(): Promise<void> {
    const dest = textArg(this.args, 'workerdest');
    const path = pyJoin(this.context.builderDir, textArg(this.args, 'workdir'), expandUser(dest));
    const reader = this.context.remotes.reader(this.args.reader);
    const blocksize = numberArg(this.args, 'blocksize') ?? 16384;
    const mode = numberArg(this.args, 'mode');
    let remaining = numberArg(this.args, 'maxsize');

    const parent = pyDirname(path);
    if (parent && !existsSync(parent)) mkdirSync(parent, { recursive: true });

    let file: FileHandle | undefined;
    try {
      file = await open(path, 'w');
      if (mode !== null) chmodSync(path, mode);
    } catch {
      await file?.close().catch(() => {});
      file = undefined;
      this.setError(`Cannot open file '${path}' for download`);
    }

    const read = async (length: number) => {
      const data = await reader.read(length);
      return typeof data === 'string' ? encoder.encode(data) : data;
    };
    try {
      while (file && !this.interrupted) {
        let length = blocksize;
        if (remaining !== null && length > remaining) length = remaining;
        if (length <= 0) {
          // Exactly maxsize bytes is fine; one byte more means the file was cut.
          if ((await read(1)).length > 0)
            this.setError(`Maximum filesize reached, truncating file '${path}'`);
          break;
        }
        const data = await read(length);
        if (data.length === 0) break;
        if (remaining !== null) remaining -= data.length;
        await file.write(data);
      }
    } catch (err) {
      this.rc = 1;
      throw err;
    } finally {
      await reader.close().catch(() => {}); // as Buildbot: a failing close is only logged
      await file?.close().catch(() => {});
      this.sendResult();
    }
  }
}
