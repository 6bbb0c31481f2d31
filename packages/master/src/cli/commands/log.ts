// `lathe log <builder> <number> <step> [log] [--follow]`: a step's log through the data
// API, page by page (never the whole log in memory). With --follow it keeps printing as
// the log grows, woken by the realtime API (SSE), until the log is finished; a step or log
// that does not exist yet is waited for while the build runs.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type ApiClient, ApiNotFoundError, type ApiResource, builderOf, buildOf } from '../api-client.js';
import { API_OPTIONS, API_OPTIONS_HELP, apiClient } from '../api-options.js';
import { type Command, EXIT, type Io, UsageError } from '../usage.js';
import { positiveInteger } from './positive-integer.js';
import { logLines } from './show.js';

const help = `Usage: lathe log [options] <builder> <number> <step> [log]

Prints log <log> (default stdio) of step <step> (its name or number) of build
<number> of <builder>. A log is named as the step named it ("stdio",
"failed tests", …) or by its slug. Reads the master's data API.

Options:
  -f, --follow         keep printing as the log grows, until it is finished
                       (waits for the step and log while the build runs)
${API_OPTIONS_HELP}
`;

/** Lines per request: the API answers at most 10,000. */
const PAGE = 5000;
/** With --follow, how often to look again when no event came (a missed event never hangs it). */
const RECHECK_MS = 5000;

async function findLog(api: ApiClient, build: ApiResource, step: string, log: string): Promise<ApiResource> {
  const s = await api.one(
    `/builds/${build.buildid}/steps/${encodeURIComponent(step)}`,
    `step ${JSON.stringify(step)} in build #${build.number}`,
  );
  const logs = await api.list(`/steps/${s.stepid}/logs`);
  const found = logs.find((l) => l.name === log) ?? logs.find((l) => l.slug === log);
  if (found) return found;
  const names = logs.map((l) => JSON.stringify(l.name)).join(', ');
  throw new ApiNotFoundError(
    `no log ${JSON.stringify(log)} in step ${JSON.stringify(s.name)}${names ? ` (its logs: ${names})` : ' (it has no logs yet)'}`,
  );
}

/** Prints lines `from` .. `to` (exclusive); returns where it stopped. */
async function print(api: ApiClient, log: ApiResource, from: number, to: number, io: Io): Promise<number> {
  let at = from;
  while (at < to) {
    const lines = await logLines(api, log, at, Math.min(PAGE, to - at));
    if (lines.length === 0) break;
    for (const l of lines) io.out(l);
    at += lines.length;
  }
  return at;
}

/** The log, waiting for it while the build runs (for --follow on a step that has not started). */
async function awaitLog(api: ApiClient, build: ApiResource, step: string, log: string): Promise<ApiResource> {
  for (;;) {
    try {
      return await findLog(api, build, step, log);
    } catch (err) {
      if (!(err instanceof ApiNotFoundError)) throw err;
      const now = await api.one(`/builds/${build.buildid}`, `build #${build.number}`);
      if (now.complete) throw err;
    }
    await sleep(500);
  }
}

async function follow(api: ApiClient, first: ApiResource, io: Io): Promise<void> {
  const abort = new AbortController();
  let wake: () => void = () => {};
  const subscribe = async () => {
    const sub = await api.subscribe([`logs.${first.logid}`], () => wake(), abort.signal);
    // A stream the server closed (it disconnects a client that falls far behind) is
    // replaced; what was appended meanwhile is read from the log itself.
    const end = () => 'ended' as const;
    // Wrapped: an awaited promise of a promise would wait for the stream's end.
    return { ended: sub.ended.then(end, end) };
  };
  let { ended } = await subscribe();
  try {
    // Subscribed before reading: whatever is appended from now on wakes us.
    let at = 0;
    for (;;) {
      const woken = new Promise<void>((r) => {
        wake = r;
      });
      const log = await api.one(`/logs/${first.logid}`, `log ${first.logid}`);
      at = await print(api, log, at, log.num_lines as number, io);
      if (log.complete) return;
      if ((await Promise.race([woken, sleep(RECHECK_MS), ended])) === 'ended')
        ({ ended } = await subscribe());
    }
  } finally {
    abort.abort();
  }
}

export const logCommand: Command = {
  help,
  summary: "print (or follow) a step's log (data API)",
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...API_OPTIONS, follow: { type: 'boolean', short: 'f' } },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length < 3 || positionals.length > 4)
      throw new UsageError(
        `needs a builder, a build number, a step and optionally a log, got ${positionals.length} argument(s)`,
      );
    const [builderArg, numberArg, step, logName = 'stdio'] = positionals as [string, string, string, string?];
    const number = positiveInteger(numberArg, 'the build number', help);
    const api = await apiClient(values);
    const build = await buildOf(api, await builderOf(api, builderArg), number);
    if (values.follow) {
      await follow(api, await awaitLog(api, build, step, logName), io);
      return EXIT.OK;
    }
    const log = await findLog(api, build, step, logName);
    if (values.json) {
      io.out(JSON.stringify(log, null, 2));
      return EXIT.OK;
    }
    await print(api, log, 0, log.num_lines as number, io);
    return EXIT.OK;
  },
};
