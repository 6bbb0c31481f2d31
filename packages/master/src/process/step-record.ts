// A finished step's record: its state text (the step's own summary, or its result) and
// whether it is hidden, then its result.
import type { DataLayer } from '../data/index.js';
import { type Result, resultName, SUCCESS } from '../results.js';
import type { BuildStep } from '../steps/contract.js';
import type { StepRun } from './step-context.js';

export async function recordStepEnd(
  data: DataLayer,
  step: BuildStep,
  ctx: StepRun,
  result: Result,
  onError: (err: unknown, context: string) => void,
): Promise<void> {
  const hidden = await isHidden(step, result, ctx, onError);
  const summary = ctx.resultSummary;
  await data.steps.setState(
    ctx.stepid,
    summary === null
      ? `${ctx.stepName} ${resultName(result)}`
      : result === SUCCESS
        ? summary
        : `${summary} (${resultName(result)})`,
  );
  await data.steps.finish(ctx.stepid, result, hidden);
}

async function isHidden(
  step: BuildStep,
  result: Result,
  ctx: StepRun,
  onError: (err: unknown, context: string) => void,
): Promise<boolean> {
  const rule = step.hideStepIf;
  if (rule === undefined) return false;
  if (typeof rule === 'boolean') return rule;
  try {
    return !!(await rule(result, ctx));
  } catch (err) {
    // A broken rule must not change the build's result; the step stays visible.
    onError(err, `step ${step.name}: hideStepIf`);
    return false;
  }
}
