// Paths on the master that steps write to, read from or run in (transfer `masterdest` and
// `mastersrc`, MasterShellCommand's `workdir`). A path written as a plain string in the
// config is the config's word: relative to the master's directory, `~` expanded, absolute
// allowed. A path that is rendered (interpolate, prop, a function of the build) carries
// values from outside the config — properties a forced build or a change set — so it must
// resolve strictly below the master's directory: absolute and `~` paths are refused, and so
// is a `..` that climbs out of it or back to the directory itself (the master's own files).
// To publish elsewhere under a rendered name, link a directory inside the master's
// directory to the place: the rule checks the path, not links the admin made.
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { FAILURE, type Result } from '../results.js';
import type { StepValue } from './args.js';
import type { StepContext } from './contract.js';
import { stepString } from './option-values.js';

/** A rendered master path leaves the master's directory; the step fails without touching it. */
export class MasterPathError extends Error {
  override readonly name = 'MasterPathError';
  constructor(
    readonly option: string,
    readonly path: string,
    readonly basedir: string,
  ) {
    super(
      `${option} ${JSON.stringify(path)} is rendered and leaves the master directory ${basedir}; ` +
        'a rendered path must resolve below it (an absolute path must be written literally in the config)',
    );
  }
}

/** A master path as Buildbot resolves it: `~` expanded, relative to the master's directory. */
export function masterPath(ctx: StepContext, path: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
  return isAbsolute(expanded) ? expanded : join(ctx.masterBasedir, expanded);
}

/** The master path an option names, under the rules above. */
export async function masterPathOption(
  ctx: StepContext,
  value: StepValue<string>,
  option: string,
): Promise<string> {
  if (typeof value === 'string') return masterPath(ctx, value);
  const path = await stepString(value, ctx, option);
  const basedir = resolve(ctx.masterBasedir);
  if (path === '' || isAbsolute(path) || path.startsWith('~'))
    throw new MasterPathError(option, path, basedir);
  const full = resolve(basedir, path);
  const inside = relative(basedir, full);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new MasterPathError(option, path, basedir);
  }
  return full;
}

/** Runs a step body; a MasterPathError becomes a FAILURE with its message in the `stdio` log. */
export async function refusingEscapes(ctx: StepContext, body: () => Promise<Result>): Promise<Result> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof MasterPathError)) throw err;
    const log = await ctx.addLog('stdio');
    await log.write('e', `${err.message}\n`);
    await ctx.setState(`refused: ${err.option} leaves the master directory`);
    return FAILURE;
  }
}
