/** `rmfile`: remove one file relative to the builder directory. */
import { unlinkSync } from 'node:fs';
import { pyJoin } from '../util/pypath.js';
import { textArg } from './args.js';
import { Command } from './command.js';
import { osErrorUpdates } from './fs-errors.js';

export class RmfileCommand extends Command {
  static readonly requiredArgs = ['path'];

  protected async start(): Promise<void> {
    const path = pyJoin(this.context.builderDir, textArg(this.args, 'path'));
    try {
      unlinkSync(path);
    } catch (err) {
      this.sendStatus(osErrorUpdates('rmfile', path, err));
      return;
    }
    this.sendStatus([['rc', 0]]);
  }
}
