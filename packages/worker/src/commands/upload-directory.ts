/**
 * `uploadDirectory`: send a directory to the master's DirectoryWriter as a tar
 * stream (optionally gzip or bzip2 compressed), then `unpack()` — no `close()`:
 * the master's unpack closes, renames and extracts.
 */
import { lstatSync } from 'node:fs';
import { BadArgsError, toWorkerFailure } from '../protocol/failure.js';
import { compressedArchive } from '../transfer/compress.js';
import { sendBlocks } from '../transfer/send-blocks.js';
import { expandUser, pyJoin } from '../util/pypath.js';
import { numberArg, textArg } from './args.js';
import { TransferCommand } from './transfer-command.js';

export class UploadDirectoryCommand extends TransferCommand {
  static readonly requiredArgs = ['workdir', 'workersrc', 'writer', 'maxsize', 'blocksize', 'compress'];

  protected async start(): Promise<void> {
    const source = textArg(this.args, 'workersrc');
    const path = pyJoin(this.context.builderDir, textArg(this.args, 'workdir'), expandUser(source));
    const writer = this.context.remotes.writer(this.args.writer);
    const compress = this.args.compress ?? null;
    if (compress !== null && compress !== 'gz' && compress !== 'bz2') {
      throw new BadArgsError(
        `unknown compression ${String(compress)}, expected None, 'gz' or 'bz2'`,
        'builtins.ValueError',
      );
    }
    try {
      lstatSync(path);
    } catch (err) {
      throw toWorkerFailure(err, path);
    }
    const archive = compressedArchive(path, compress);
    this.sendStatus([['header', `sending ${path}\n`]]);
    try {
      const result = await sendBlocks(archive, (block) => writer.write(block), {
        blocksize: numberArg(this.args, 'blocksize') ?? 16384,
        maxsize: numberArg(this.args, 'maxsize'),
        stopped: () => this.interrupted,
      });
      await archive.close();
      if (result === 'truncated') this.setError(`Maximum filesize reached, truncating file '${path}'`);
      // An interrupted upload is left for the master to discard rather than unpacked half-way.
      if (result !== 'stopped') {
        try {
          await writer.unpack();
        } catch (err) {
          this.rc = 1;
          throw err;
        }
      }
    } catch (err) {
      this.rc = 1;
      await archive.close().catch(() => {});
      throw err;
    } finally {
      this.sendResult();
    }
  }
}
