/** `stat`: report `os.stat()` of a file as a 10-tuple of ints. */
import { statSync } from 'node:fs';
import { tuple } from '../protocol/values.js';
import { pyJoin } from '../util/pypath.js';
import { optionalTextArg, textArg } from './args.js';
import { Command } from './command.js';
import { osErrorUpdates } from './fs-errors.js';

export class StatCommand extends Command {
  static readonly requiredArgs = ['file'];

  protected async start(): Promise<void> {
    const workdir = optionalTextArg(this.args, 'workdir') ?? '';
    const path = pyJoin(this.context.builderDir, workdir, textArg(this.args, 'file'));
    let s: import('node:fs').BigIntStats;
    try {
      s = statSync(path, { bigint: true });
    } catch (err) {
      this.sendStatus(osErrorUpdates('stat', path, err));
      return;
    }
    // Python's tuple(os.stat()): mode, ino, dev, nlink, uid, gid, size, and the
    // three times truncated to whole seconds.
    const seconds = (ns: bigint) => ns / 1_000_000_000n;
    const fields = [s.mode, s.ino, s.dev, s.nlink, s.uid, s.gid, s.size]
      .concat([seconds(s.atimeNs), seconds(s.mtimeNs), seconds(s.ctimeNs)])
      .map(intValue);
    this.sendStatus([
      ['stat', tuple(...fields)],
      ['rc', 0],
    ]);
  }
}

/** A bigint as a plain number when that is exact (PB sends both as Python ints). */
function intValue(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}
