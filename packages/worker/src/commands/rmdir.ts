/**
 * `rmdir`: remove directories (or files) recursively with `rm -rf`. When that
 * fails, permissions are repaired with `chmod -Rf u+rwx` and `rm -rf` runs once
 * more (a leftover read-only directory is the usual culprit).
 */

import type { RunProcess } from '../process/run-process.js';
import { BadArgsError } from '../protocol/failure.js';
import { pyJoin } from '../util/pypath.js';
import { boolArg, numberArg } from './args.js';
import { Command } from './command.js';
import { helperProcess } from './helper-process.js';

export class RmdirCommand extends Command {
  static readonly requiredArgs = ['dir'];
  private current: RunProcess | undefined;

  protected async start(): Promise<void> {
    const dirArg = this.args.dir;
    const dirs = Array.isArray(dirArg) ? dirArg : [dirArg];
    if (!dirs.every((d): d is string => typeof d === 'string')) {
      throw new BadArgsError("'dir' must be text or a list of text", 'builtins.TypeError');
    }
    let rc = 0;
    for (const dir of dirs) {
      if (this.interrupted) break;
      const result = await this.removeOne(pyJoin(this.context.builderDir, dir));
      if (result !== 0) rc = result;
    }
    this.sendStatus([['rc', rc]]);
  }

  private async removeOne(path: string): Promise<number> {
    let rc = await this.runHelper(['rm', '-rf', path]);
    if (rc === 0 || this.interrupted) return rc;
    await this.runHelper(['chmod', '-Rf', 'u+rwx', path]);
    if (this.interrupted) return rc;
    rc = await this.runHelper(['rm', '-rf', path]);
    return rc;
  }

  private runHelper(argv: string[]): Promise<number> {
    this.current = helperProcess(
      this.context,
      argv,
      {
        timeout: numberArg(this.args, 'timeout', 120),
        maxTime: numberArg(this.args, 'maxTime'),
        logEnviron: boolArg(this.args, 'logEnviron', true),
      },
      (updates) => this.sendUpdate(updates),
    );
    return this.current.start();
  }

  protected override interrupt(): void {
    this.current?.kill('command interrupted');
  }
}
