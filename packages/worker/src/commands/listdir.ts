/** `listdir`: the entry names of a directory, unsorted, as `os.listdir`. */
import { readdirSync } from 'node:fs';
import { pyJoin } from '../util/pypath.js';
import { textArg } from './args.js';
import { Command } from './command.js';
import { osErrorUpdates } from './fs-errors.js';

export class ListdirCommand extends Command {
  static readonly requiredArgs = ['dir'];

  protected async start(): Promise<void> {
    const path = pyJoin(this.context.builderDir, textArg(this.args, 'dir'));
    let files: string[];
    try {
      files = readdirSync(path);
    } catch (err) {
      this.sendStatus(osErrorUpdates('listdir', path, err));
      return;
    }
    this.sendStatus([
      ['files', files],
      ['rc', 0],
    ]);
  }
}
