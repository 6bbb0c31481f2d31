// The output of a failed build's first failing step: what suspects are ranked against.
import type { DataLayer } from '../data/index.js';
import { FAILURE } from '../results.js';

/** Lines read from the end of each output log; error messages sit at the end, logs can be huge. */
export const OUTPUT_LINES = 5000;

export async function failingStepOutput(data: DataLayer, buildid: number): Promise<string> {
  const step = (await data.steps.forBuild(buildid)).find((s) => s.results === FAILURE);
  if (!step) return '';
  const text: string[] = [];
  for (const log of await data.logs.forStep(step.id)) {
    if (log.numLines === 0) continue;
    const first = Math.max(0, log.numLines - OUTPUT_LINES);
    if (log.type === 's') {
      const lines = await data.logs.stdioLines(log.id, first, log.numLines - 1);
      for (const l of lines) if (l.stream !== 'h') text.push(l.text);
    } else text.push(...(await data.logs.lines(log.id, first, log.numLines - 1)));
  }
  return text.join('\n');
}
