// A custom step written by subclassing Lathe's generic `Step`: it asks the worker for a
// built file's size with the worker's `stat` command (no shell involved, so it works on
// any worker platform) and records it as the build metric `artifact.size_bytes` (plus a
// property), so "how big is the binary over the last 50 builds" is one metrics query.
//
// Use it in a factory after the compile step:
//
//   buildFactory(
//     compile({ command: ['make'] }),
//     new ArtifactSize({ file: 'hello', maxBytes: 1_000_000 }),
//   )
//
// Everything a step shares (name, haltOnFailure & co., doStepIf, hideStepIf, locks) comes
// from `Step`; the subclass only implements `run(ctx)`.
import {
  FAILURE,
  type Result,
  Step,
  type StepContext,
  type StepOptions,
  SUCCESS,
  WARNINGS,
} from '@lathe/master';

export interface ArtifactSizeOptions extends StepOptions {
  /** The file on the worker, relative to `workdir`. */
  readonly file: string;
  /** Relative to the builder's directory on the worker; default `build`. */
  readonly workdir?: string;
  /** The metric's name; default `artifact.size_bytes`. */
  readonly metric?: string;
  /** A larger artifact makes the step WARNINGS (a budget, not a hard failure). */
  readonly maxBytes?: number;
}

/** Where `stat` puts the size in its answer: Python's os.stat tuple, st_size is index 6. */
const ST_SIZE = 6;

export class ArtifactSize extends Step<ArtifactSizeOptions> {
  constructor(options: ArtifactSizeOptions) {
    super(options, 'artifact size');
  }

  async run(ctx: StepContext): Promise<Result> {
    const { file, workdir = 'build', metric = 'artifact.size_bytes', maxBytes } = this.options;
    // Buildbot's `stat` answers with an update `stat` holding the os.stat() tuple.
    const outcome = await ctx.runCommand({ name: 'stat', args: { file, workdir }, logName: 'stdio' });
    const stat = outcome.updates.stat?.[0];
    const size = Array.isArray(stat) ? Number(stat[ST_SIZE]) : Number.NaN;
    if (outcome.rc !== 0 || !Number.isFinite(size)) {
      await ctx.setState(`${file}: not found`);
      return FAILURE;
    }
    ctx.setMetric(metric, size);
    ctx.setProperty('artifact-size', size, this.name);
    await ctx.setState(`${file}: ${size} bytes`);
    return maxBytes !== undefined && size > maxBytes ? WARNINGS : SUCCESS;
  }
}
