// Configure: Buildbot's Configure step, a shell command running `./configure` by default
// that halts and fails the build when it fails: nothing can be built unconfigured.

import type { Result } from '../results.js';
import type { StepContext } from './contract.js';
import { ShellCommand, type ShellCommandOptions } from './shell.js';

export interface ConfigureOptions extends Omit<ShellCommandOptions, 'command'> {
  /** Default `./configure`. */
  readonly command?: ShellCommandOptions['command'];
}

export class Configure extends ShellCommand<ConfigureOptions & ShellCommandOptions> {
  constructor(options: ConfigureOptions = {}) {
    super(
      {
        haltOnFailure: true,
        flunkOnFailure: true,
        description: 'configuring',
        command: ['./configure'],
        ...options,
      },
      'configure',
    );
  }

  override async run(ctx: StepContext): Promise<Result> {
    const result = await super.run(ctx);
    // Buildbot's descriptionDone: "configure", "configure (failure)".
    ctx.setResultSummary('configure');
    return result;
  }
}

export function configure(options: ConfigureOptions = {}): Configure {
  return new Configure(options);
}
