/** `cpdir`: copy a directory tree with `cp -R -P -p -v`, creating the target's parent. */
import { existsSync, mkdirSync } from 'node:fs';
import type { RunProcess } from '../process/run-process.js';
import { pyDirname, pyJoin } from '../util/pypath.js';
import { boolArg, numberArg, textArg } from './args.js';
import { Command } from './command.js';
import { helperProcess } from './helper-process.js';

export class CpdirCommand extends Command {
  static readonly requiredArgs = ['fromdir', 'todir'];
  private current: RunProcess | undefined;

  protected async start(): Promise<void> {
    const from = pyJoin(this.context.builderDir, textArg(this.args, 'fromdir'));
    const to = pyJoin(this.context.builderDir, textArg(this.args, 'todir'));
    const parent = pyDirname(to);
    if (parent && !existsSync(parent)) mkdirSync(parent, { recursive: true });
    this.current = helperProcess(
      this.context,
      ['cp', '-R', '-P', '-p', '-v', from, to],
      {
        timeout: numberArg(this.args, 'timeout', 120),
        maxTime: numberArg(this.args, 'maxTime'),
        logEnviron: boolArg(this.args, 'logEnviron', true),
      },
      (updates) => this.sendUpdate(updates),
    );
    const rc = await this.current.start();
    this.sendStatus([['rc', rc]]);
  }

  protected override interrupt(): void {
    this.current?.kill('command interrupted');
  }
}
