// Worker-side filesystem steps: Buildbot's RemoveDirectory and MakeDirectory, each one
// worker command (`rmdir`, `mkdir`) whose rc decides the result.

import type { Result } from '../results.js';
import type { StepValue } from './args.js';
import { Step, type StepOptions } from './base.js';
import type { StepContext } from './contract.js';
import { stepString } from './option-values.js';
import { decodeRC } from './shell.js';

export interface DirectoryStepOptions extends StepOptions {
  /** Relative to the builder's directory on the worker. */
  readonly dir: StepValue<string>;
}

abstract class DirectoryStep extends Step<DirectoryStepOptions> {
  protected abstract command(dir: string): { name: string; args: Record<string, unknown> };

  async run(ctx: StepContext): Promise<Result> {
    const dir = await stepString(this.options.dir, ctx, 'dir');
    const outcome = await ctx.runCommand({ ...this.command(dir), logName: 'stdio' });
    return decodeRC(outcome.rc);
  }
}

export class RemoveDirectory extends DirectoryStep {
  constructor(options: DirectoryStepOptions) {
    super(options, 'RemoveDirectory');
  }
  protected command(dir: string) {
    return { name: 'rmdir', args: { dir, logEnviron: true } };
  }
}

export class MakeDirectory extends DirectoryStep {
  constructor(options: DirectoryStepOptions) {
    super(options, 'MakeDirectory');
  }
  protected command(dir: string) {
    return { name: 'mkdir', args: { dir } };
  }
}

export function removeDirectory(options: DirectoryStepOptions): RemoveDirectory {
  return new RemoveDirectory(options);
}
export function makeDirectory(options: DirectoryStepOptions): MakeDirectory {
  return new MakeDirectory(options);
}
