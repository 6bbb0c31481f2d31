/** `glob`: absolute paths matching a pattern (`**` recursive), as Python's glob. */

import { pyGlob } from '../util/pyglob.js';
import { pyJoin } from '../util/pypath.js';
import { textArg } from './args.js';
import { Command } from './command.js';
import { osErrorUpdates } from './fs-errors.js';

export class GlobCommand extends Command {
  static readonly requiredArgs = ['path'];

  protected async start(): Promise<void> {
    const pattern = pyJoin(this.context.builderDir, textArg(this.args, 'path'));
    let files: string[];
    try {
      files = pyGlob(pattern);
    } catch (err) {
      this.sendStatus(osErrorUpdates('glob', pattern, err));
      return;
    }
    this.sendStatus([
      ['files', files],
      ['rc', 0],
    ]);
  }
}
