// `lathe show <builder> <number>`: one build as the data API has it: result, timing,
// worker, blamelist (when the API gives one), steps with their summaries, test results
// with the failing tests' names, and the warnings the steps counted.
import { parseArgs } from 'node:util';
import { type ApiClient, type ApiResource, builderOf, buildOf } from '../api-client.js';
import { API_OPTIONS, API_OPTIONS_HELP, apiClient, localTime, resultText, took } from '../api-options.js';
import { type Command, EXIT, UsageError } from '../usage.js';
import { positiveInteger } from './positive-integer.js';

const help = `Usage: lathe show [options] <builder> <number>

Shows build <number> of <builder> (a name or id): its result, when it ran and
on which worker, its blamelist, each step with its result and summary, the
test results with the names of failed tests, and the warnings found in the
output. Reads the master's data API.

Options:
  --warnings <n>       warning lines shown per step (default 20)
${API_OPTIONS_HELP}
`;

/** A warning-counting step's log of the warnings it found (steps/warning-counting.ts). */
const WARNINGS_LOG = /^warnings \(\d+\)$/;

interface StepDetail {
  readonly step: ApiResource;
  readonly warnings: { count: number; lines: string[] } | null;
}

async function warningsOf(api: ApiClient, step: ApiResource, shown: number): Promise<StepDetail['warnings']> {
  const logs = await api.list(`/steps/${step.stepid}/logs`, { field: ['logid', 'name', 'type'] });
  const log = logs.find((l) => WARNINGS_LOG.test(String(l.name)));
  if (!log) return null;
  const count = Number(/\d+/.exec(String(log.name))![0]);
  const lines = shown === 0 ? [] : await logLines(api, log, 0, shown);
  return { count, lines };
}

/** Lines of a log without the stream letters of a stdio log. */
export async function logLines(
  api: ApiClient,
  log: ApiResource,
  offset: number,
  limit: number,
): Promise<string[]> {
  const [chunk] = await api.list(`/logs/${log.logid}/contents`, {
    offset: String(offset),
    limit: String(limit),
  });
  if (!chunk) return [];
  const lines = String(chunk.content).split('\n');
  lines.pop();
  return log.type === 's' ? lines.map((l) => l.slice(1)) : lines;
}

export const showCommand: Command = {
  help,
  summary: 'show a build: steps, tests, warnings (data API)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...API_OPTIONS, warnings: { type: 'string' } },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length !== 2)
      throw new UsageError(`needs a builder and a build number, got ${positionals.length} argument(s)`);
    const number = positiveInteger(positionals[1]!, 'the build number', help);
    const shown = values.warnings === undefined ? 20 : Number(values.warnings);
    if (!Number.isInteger(shown) || shown < 0 || shown > 10_000)
      throw new UsageError(`--warnings must be an integer in 0..10000, got ${values.warnings}`);
    const api = await apiClient(values);
    const builder = await builderOf(api, positionals[0]!);
    const build = await buildOf(api, builder, number);
    const steps = await api.list(`/builds/${build.buildid}/steps`, { order: 'number' });
    const tests = await api.list(`/builds/${build.buildid}/testresults`);
    const details: StepDetail[] = [];
    for (const step of steps) details.push({ step, warnings: await warningsOf(api, step, shown) });
    const worker =
      typeof build.workerid === 'number'
        ? (await api.list(`/workers/${build.workerid}`, { field: 'name' }))[0]?.name
        : undefined;
    if (values.json) {
      io.out(JSON.stringify({ builder, build, steps, testresults: tests, warnings: details }, null, 2));
      return EXIT.OK;
    }
    io.out(`${builder.name} #${build.number}: ${resultText(build)} (${build.state_string})`);
    io.out(
      `  started ${localTime(build.started_at as number)}, ${build.complete ? 'took' : 'running for'} ${took(build)}` +
        `${worker === undefined ? '' : `, on worker ${worker}`}`,
    );
    // Another part of the API adds the blamelist to builds; shown when the master has it.
    if (Array.isArray(build.blamelist))
      io.out(`  blamelist: ${build.blamelist.length === 0 ? '(nobody)' : build.blamelist.join(', ')}`);
    io.out(`steps (${steps.length}):`);
    for (const { step } of details)
      io.out(
        `  ${String(step.number).padStart(2)} ${String(step.name).padEnd(20)} ${(step.started_at === null ? 'pending' : resultText(step)).padEnd(10)} ${took(step).padEnd(8)} ${step.state_string}`,
      );
    for (const t of tests) {
      const counts = [`${t.passed} passed`, `${t.failed} failed`, `${t.skipped} skipped`];
      if (t.todo) counts.push(`${t.todo} todo`);
      io.out(`tests of ${t.step_name}: ${counts.join(', ')} (${t.total} in all)`);
      const failed = t.failed_tests as string[];
      if (failed.length > 0) {
        io.out('  failed tests:');
        for (const name of failed) io.out(`    ${name}`);
        if (t.failed_tests_truncated) io.out(`    … and ${(t.failed as number) - failed.length} more`);
      }
    }
    for (const { step, warnings } of details) {
      if (!warnings) continue;
      io.out(`warnings in ${step.name} (${warnings.count}):`);
      for (const line of warnings.lines) io.out(`  ${line}`);
      if (warnings.count > warnings.lines.length)
        io.out(
          `  … ${warnings.count - warnings.lines.length} more (lathe log ${builder.name} ${build.number} ${JSON.stringify(step.name)} ${JSON.stringify(`warnings (${warnings.count})`)})`,
        );
    }
    return EXIT.OK;
  },
};
