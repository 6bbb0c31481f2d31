// `lathe force`: submit a build request through the running master and follow it. The
// master pushes progress to a Referenceable we pass along (PB calls it back on the same
// connection), so no polling and no second port are needed.
import { parseArgs } from 'node:util';
import { Referenceable } from '@lathe/pb';
import { formatBlame } from '../../control/blame-report.js';
import type { BuildReport, ForceEvent, ForceResult } from '../../control/protocol.js';
import { isResult, resultName, SKIPPED, SUCCESS, WARNINGS } from '../../results.js';
import { openControl, remoteMessage } from '../control-client.js';
import { type MasterDir, masterDir } from '../masterdir.js';
import { type Command, EXIT, type Io, seconds, UsageError } from '../usage.js';

const help = `Usage: lathe force [options] <builder>

Asks the running master to build <builder> now, through a force scheduler, then
follows the build: each step's result as it finishes, then the build's result.
After a failure it shows what the master stored about it: the end of each
failing step's output, the names of failed tests, warnings, and the build's
URL. Exit status 0 when the build succeeded (SUCCESS or WARNINGS), 1 when it
did not, 3 when --timeout ran out first (the request stays queued on the
master).

Options:
  -d, --dir <dir>         the master directory (default: the current directory)
  -p, --prop <name=value> a parameter of the force scheduler (repeatable); a nested
                          group's field as group.field=value. A config without
                          force schedulers takes any name as a build property.
  -r, --reason <text>     why (shown with the build)
  -s, --scheduler <name>  the force scheduler to use (default: the first that may
                          force <builder>)
  --branch <branch>       source stamp branch
  --revision <rev>        source stamp revision
  --repository <url>      source stamp repository
  --no-wait               only submit the request, do not follow it
  --timeout <seconds>     give up following after this long (default: wait until done)
  -h, --help              show this help
`;

export interface ForceOptions {
  readonly builder: string;
  readonly reason?: string;
  readonly scheduler?: string;
  readonly properties?: Readonly<Record<string, string>>;
  readonly branch?: string;
  readonly revision?: string;
  readonly repository?: string;
  readonly wait: boolean;
  readonly timeoutMs?: number;
  /** Do not wait for a master that cannot run builds (no build runner attached). */
  readonly requireRunner?: boolean;
}

const owner = () => process.env.USER ?? 'someone';

// Upper case, as Buildbot's UI shows results, so they stand out in the step list.
const name = (r: number) => (isResult(r) ? resultName(r).toUpperCase() : `result ${r}`);
const succeeded = (r: number) => r === SUCCESS || r === WARNINGS;

class ForceListener extends Referenceable {
  #started = false;
  /** Builds that finished without success, to explain afterwards. */
  readonly failedBuilds: number[] = [];
  /** Events can overtake the answer to `force`; they wait until it has been printed. */
  #held: ForceEvent[] | null = [];
  constructor(
    private readonly io: Io,
    private readonly onDone: (results: number) => void,
  ) {
    super();
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const ev of held) this.#show(ev);
  }

  remote_event(ev: ForceEvent): void {
    if (this.#held) this.#held.push(ev);
    else this.#show(ev);
  }

  #show(ev: ForceEvent): void {
    const { out } = this.io;
    switch (ev.type) {
      case 'claimed':
        out('request claimed by the master, starting a build');
        break;
      case 'unclaimed':
        out('the build could not start; the request is pending again');
        break;
      case 'buildStarted':
        this.#started = true;
        out(`build #${ev.number} started`);
        break;
      case 'stepFinished':
        out(`  step ${JSON.stringify(ev.name)}: ${name(ev.results)}`);
        break;
      case 'buildFinished':
        if (!succeeded(ev.results) && ev.results !== SKIPPED) this.failedBuilds.push(ev.buildid);
        out(`build #${ev.number} finished: ${name(ev.results)}`);
        break;
      case 'requestComplete':
        if (!this.#started && ev.results === SKIPPED)
          out('the request was merged into an earlier build of the same sources (SKIPPED)');
        break;
      case 'buildsetComplete':
        this.onDone(ev.results);
        break;
    }
  }
}

export async function forceBuild(dir: MasterDir, options: ForceOptions, io: Io): Promise<number> {
  const session = await openControl(dir);
  try {
    let done!: (results: number) => void;
    const finished = new Promise<number>((r) => {
      done = r;
    });
    const listener = options.wait ? new ForceListener(io, done) : null;
    let submitted: ForceResult;
    try {
      submitted = await session.avatar.callRemote<ForceResult>(
        'force',
        options.builder,
        {
          owner: owner(),
          reason: options.reason ?? `forced by ${owner()} with lathe force`,
          properties: { ...(options.properties ?? {}) },
          ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
          ...(options.branch === undefined ? {} : { branch: options.branch }),
          ...(options.revision === undefined ? {} : { revision: options.revision }),
          ...(options.repository === undefined ? {} : { repository: options.repository }),
        },
        listener,
      );
    } catch (err) {
      io.err(`lathe force: the master refused: ${remoteMessage(err)}`);
      return EXIT.FAILED;
    }
    io.out(
      `buildset ${submitted.buildsetid} submitted: build request ${submitted.buildrequestid} for ${JSON.stringify(options.builder)} is pending`,
    );
    if (submitted.connectedWorkers === 0)
      io.out(`note: no worker of builder ${JSON.stringify(options.builder)} is connected; the request waits`);
    if (!submitted.canRunBuilds) {
      io.out('note: this master has no build runner attached yet, so the request stays pending');
      if (options.requireRunner && options.wait) {
        io.err('lathe force: not waiting for a build this master cannot run');
        return EXIT.FAILED;
      }
    }
    listener?.release();
    if (!options.wait) return EXIT.OK;

    const lost = session.connection.closed.then(() => 'lost' as const);
    const timeout =
      options.timeoutMs === undefined
        ? null
        : new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), options.timeoutMs).unref());
    const outcome = await Promise.race([finished, lost, ...(timeout ? [timeout] : [])]);
    if (outcome === 'lost') {
      io.err('lathe force: lost the connection to the master; the request continues there (lathe status)');
      return EXIT.FAILED;
    }
    if (outcome === 'timeout') {
      io.err(
        `lathe force: gave up waiting after ${options.timeoutMs! / 1000}s; build request ${submitted.buildrequestid} stays queued on the master`,
      );
      return EXIT.TIMEOUT;
    }
    for (const buildid of listener?.failedBuilds ?? []) {
      const report = await session.avatar.callRemote<BuildReport | null>('buildReport', buildid);
      if (report) for (const line of formatReport(report)) io.out(line);
    }
    io.out(`result: ${name(outcome)}`);
    return succeeded(outcome) ? EXIT.OK : EXIT.FAILED;
  } finally {
    session.close();
  }
}

/** What a failed build left behind, indented under its "build #N finished" line. */
export function formatReport(report: BuildReport): string[] {
  const lines: string[] = [];
  for (const step of report.steps) {
    lines.push(`  step ${JSON.stringify(step.name)}: ${step.state}`);
    if (step.failedTests.length > 0) {
      lines.push('    failed tests:');
      for (const t of step.failedTests) lines.push(`      ${t}`);
    }
    if (step.warnings.length > 0) {
      lines.push('    warnings:');
      for (const w of step.warnings) lines.push(`      ${w}`);
    }
    if (step.logTail.length > 0) {
      lines.push(`    last ${step.logTail.length} line(s) of output:`);
      for (const l of step.logTail) lines.push(`      ${l}`);
    }
  }
  if (report.blame) lines.push(...formatBlame(report.blame));
  lines.push(`  build #${report.number} of ${report.builder}: ${report.url}`);
  return lines;
}

export function parseProps(props: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of props) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--prop needs name=value, got ${JSON.stringify(p)}`, help);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export const forceCommand: Command = {
  help,
  summary: 'build a builder now and follow the build',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string', short: 'd' },
        prop: { type: 'string', short: 'p', multiple: true },
        reason: { type: 'string', short: 'r' },
        scheduler: { type: 'string', short: 's' },
        branch: { type: 'string' },
        revision: { type: 'string' },
        repository: { type: 'string' },
        'no-wait': { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length !== 1)
      throw new UsageError(`needs exactly one builder name, got ${positionals.length}`);
    const timeout =
      values.timeout === undefined ? undefined : seconds(values.timeout, 0, '--timeout', help) * 1000;
    return forceBuild(
      masterDir(values.dir ?? '.'),
      {
        builder: positionals[0]!,
        properties: parseProps(values.prop ?? []),
        wait: !values['no-wait'],
        ...(values.reason === undefined ? {} : { reason: values.reason }),
        ...(values.scheduler === undefined ? {} : { scheduler: values.scheduler }),
        ...(values.branch === undefined ? {} : { branch: values.branch }),
        ...(values.revision === undefined ? {} : { revision: values.revision }),
        ...(values.repository === undefined ? {} : { repository: values.repository }),
        ...(timeout === undefined ? {} : { timeoutMs: timeout }),
      },
      io,
    );
  },
};
