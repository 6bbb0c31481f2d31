// What a finished build left in the database that explains it: the output tail of each step
// that did not succeed, the failing test names and the warnings its steps stored, and the
// build's page. `lathe force` prints it after a failure, so the user need not dig.
import { passes } from '../data/blame.js';
import type { DataLayer } from '../data/index.js';
import type { LogRow } from '../data/logs.js';
import type { Master } from '../master.js';
import { SKIPPED, SUCCESS, WARNINGS } from '../results.js';
import { buildUrl } from '../urls.js';
import { blameReport } from './blame-report.js';
import type { BuildReport, StepReport } from './protocol.js';

/** Output lines shown per failing step; the whole log is one URL away. */
export const LOG_TAIL_LINES = 20;
/** Lines shown of a "failed tests" or "warnings" log. */
export const LISTED_LINES = 20;

const FAILED_TESTS_LOG = 'failed tests';
const WARNINGS_LOG = /^warnings \(\d+\)$/;

export async function buildReport(master: Master, buildid: number): Promise<BuildReport | null> {
  const { data } = master;
  const build = await data.builds.get(buildid);
  if (!build) return null;
  const builder = [...master.builders.values()].find((b) => b.builderid === build.builderid);
  const steps: StepReport[] = [];
  for (const step of await data.steps.forBuild(buildid)) {
    const failed =
      step.results !== null &&
      step.results !== SUCCESS &&
      step.results !== WARNINGS &&
      step.results !== SKIPPED;
    let logTail: string[] = [];
    let failedTests: string[] = [];
    let warnings: string[] = [];
    for (const log of await data.logs.forStep(step.id)) {
      if (log.name === FAILED_TESTS_LOG) failedTests = await head(master, log);
      else if (WARNINGS_LOG.test(log.name)) warnings = await head(master, log);
      else if (failed && log.type === 's' && logTail.length === 0)
        logTail = await outputTail(data, log.id, log.numLines);
    }
    if (failed || warnings.length > 0)
      steps.push({
        name: step.name,
        results: step.results,
        state: step.stateString,
        logTail,
        failedTests,
        warnings,
      });
  }
  return {
    buildid,
    builder: builder?.name ?? `builder ${build.builderid}`,
    number: build.number,
    results: build.results,
    state: build.stateString,
    url: buildUrl(master.config.buildbotURL, build.builderid, build.number),
    steps,
    blame: build.results === null || passes(build.results) ? null : await blameReport(data, buildid),
  };
}

/** The last output lines (stdout and stderr; the headers say what ran, not what went wrong). */
export async function outputTail(data: DataLayer, logid: number, numLines: number): Promise<string[]> {
  // Headers end the log (exit code, elapsed time): read a little more than we show.
  const first = Math.max(0, numLines - LOG_TAIL_LINES - 10);
  const lines = await data.logs.stdioLines(logid, first, numLines - 1);
  return lines
    .filter((l) => l.stream !== 'h')
    .map((l) => l.text)
    .slice(-LOG_TAIL_LINES);
}

async function head(master: Master, log: LogRow): Promise<string[]> {
  const last = Math.min(log.numLines, LISTED_LINES) - 1;
  if (log.type !== 's') return master.data.logs.lines(log.id, 0, last);
  return (await master.data.logs.stdioLines(log.id, 0, last)).map((l) => l.text);
}
