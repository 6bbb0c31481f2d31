/** `mkdir`: create a directory (with parents) relative to the builder directory. */
import { mkdirSync, statSync } from 'node:fs';
import { pyJoin } from '../util/pypath.js';
import { textArg } from './args.js';
import { Command } from './command.js';
import { osErrorUpdates } from './fs-errors.js';

export class MkdirCommand extends Command {
  static readonly requiredArgs = ['dir'];

  protected async start(): Promise<void> {
    const path = pyJoin(this.context.builderDir, textArg(this.args, 'dir'));
    try {
      if (!isDirectory(path)) mkdirSync(path, { recursive: true });
    } catch (err) {
      this.sendStatus(osErrorUpdates('mkdir', path, err));
      return;
    }
    this.sendStatus([['rc', 0]]);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
