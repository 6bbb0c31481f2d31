// The generic step: what every step shares (name, result policy, run conditions, locks),
// so a new step only says what it does in `run`. Subclass it for custom steps.

import type { LockAccess } from '../locks/definitions.js';
import type { Result, ResultPolicy } from '../results.js';
import type { StepValue } from './args.js';
import type { BuildStep, StepContext } from './contract.js';

export interface StepOptions extends ResultPolicy {
  readonly name?: string;
  /** What the step is doing, shown while it runs, e.g. `interpolate('testing %(prop:branch)s')`. */
  readonly description?: StepValue<string>;
  /** Runs even after an earlier step halted the build or the build was stopped. */
  readonly alwaysRun?: boolean;
  /**
   * Whether to run, decided when the step's turn comes: a boolean, a renderable (e.g.
   * `prop('deploy')`, text such as "false" accepted) or a function of the step context;
   * false gives SKIPPED.
   */
  readonly doStepIf?: StepValue<boolean>;
  readonly hideStepIf?: boolean | ((result: Result, ctx: StepContext) => boolean | Promise<boolean>);
  readonly locks?: readonly LockAccess[];
}

const SHARED_KEYS = [
  'description',
  'alwaysRun',
  'haltOnFailure',
  'flunkOnFailure',
  'flunkOnWarnings',
  'warnOnFailure',
  'warnOnWarnings',
  'doStepIf',
  'hideStepIf',
  'locks',
] as const;

export abstract class Step<O extends StepOptions = StepOptions> implements BuildStep {
  readonly name: string;
  readonly description?: StepValue<string>;
  readonly alwaysRun?: boolean;
  readonly haltOnFailure?: boolean;
  readonly flunkOnFailure?: boolean;
  readonly flunkOnWarnings?: boolean;
  readonly warnOnFailure?: boolean;
  readonly warnOnWarnings?: boolean;
  readonly doStepIf?: StepValue<boolean>;
  readonly hideStepIf?: boolean | ((result: Result, ctx: StepContext) => boolean | Promise<boolean>);
  readonly locks?: readonly LockAccess[];

  constructor(
    readonly options: O,
    defaultName: string,
  ) {
    this.name = options.name ?? defaultName;
    // Only the flags the user set: an unset one must fall back to Buildbot's default, and
    // a field present but undefined would read as "set to false" in some checks.
    for (const key of SHARED_KEYS) {
      if (options[key] !== undefined) Object.assign(this, { [key]: options[key] });
    }
  }

  abstract run(ctx: StepContext): Promise<Result>;
}
