// Steps that set build properties: SetProperty (a value rendered on the master) and
// SetPropertyFromCommand (from a worker command's output), with Buildbot's sources.

import { FAILURE, type Result, SUCCESS } from '../results.js';
import { type StepValue, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';
import type { StepContext } from './contract.js';
import { StepOptionError, stepBoolean, stepString } from './option-values.js';
import { ShellCommand, type ShellCommandOptions } from './shell.js';

export interface SetPropertyOptions extends StepOptions {
  readonly property: StepValue<string>;
  /** Any JSON value; renderables inside it are rendered first. */
  readonly value: StepValue<unknown>;
}

export class SetProperty extends Step<SetPropertyOptions> {
  constructor(options: SetPropertyOptions) {
    super(options, 'SetProperty');
  }

  async run(ctx: StepContext): Promise<Result> {
    const name = await stepValue(this.options.property, ctx);
    ctx.setProperty(name, await stepValue(this.options.value, ctx), this.name);
    await ctx.setState(`property '${name}' set`);
    return SUCCESS;
  }
}

/** The command's exit code and output, for `extract`. */
export interface CommandOutput {
  readonly rc: number | null;
  readonly stdout: string;
}

export interface SetPropertyFromCommandOptions extends ShellCommandOptions {
  /** Sets this property to the command's stdout (trimmed unless `strip: false`). */
  readonly property?: StepValue<string>;
  /** Or computes several properties from the output (a function of the output: never rendered). */
  readonly extract?: (output: CommandOutput) => Readonly<Record<string, unknown>>;
  readonly strip?: StepValue<boolean>;
}

/** Thrown at construction: exactly one of `property` and `extract` must be given. */
export class SetPropertyFromCommandConfigError extends Error {
  override readonly name = 'SetPropertyFromCommandConfigError';
}

export class SetPropertyFromCommand extends ShellCommand<SetPropertyFromCommandOptions> {
  constructor(options: SetPropertyFromCommandOptions) {
    if ((options.property === undefined) === (options.extract === undefined)) {
      throw new SetPropertyFromCommandConfigError(
        'setPropertyFromCommand needs exactly one of property and extract',
      );
    }
    super(options, 'setproperty');
  }

  override async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    // Rendered before the command runs, so a bad name fails the step without running it.
    const property = o.property === undefined ? undefined : await stepString(o.property, ctx, 'property');
    if (property === '') throw new StepOptionError('property', property, 'a property name');
    const strip = o.strip === undefined ? true : await stepBoolean(o.strip, ctx, 'strip');
    const outcome = await this.runShell(ctx, true);
    const result = await this.decode(ctx, outcome.rc);
    // Buildbot sets nothing from a failed command: its output is no answer.
    if (result === FAILURE) return result;
    const stdout = outcome.stdout ?? '';
    const values =
      property !== undefined
        ? { [property]: strip ? stdout.trim() : stdout }
        : (o.extract?.({ rc: outcome.rc, stdout }) ?? {});
    const names = Object.keys(values);
    for (const name of names) ctx.setProperty(name, values[name], 'SetPropertyFromCommand Step');
    const log = await ctx.addLog('property changes');
    await log.write('h', names.map((n) => `${n}: ${JSON.stringify(values[n])}\n`).join(''));
    await ctx.setState(names.length === 1 ? `property '${names[0]}' set` : `${names.length} properties set`);
    return result;
  }
}

export const setProperty = (o: SetPropertyOptions) => new SetProperty(o);
export const setPropertyFromCommand = (o: SetPropertyFromCommandOptions) => new SetPropertyFromCommand(o);
