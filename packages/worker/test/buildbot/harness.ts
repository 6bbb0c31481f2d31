/**
 * End-to-end harness: a stock Buildbot 3.7 master (Debian's `buildbot`) and a worker
 * chosen by parameter — the stock `buildbot-worker` or Lathe's `lathe-worker` — in a
 * temp directory, builds triggered headless, results read back from the master's
 * SQLite database and normalised so that runs on different workers compare equal.
 *
 *   const h = await BuildbotHarness.create({ worker: 'buildbot-worker' });
 *   try { await h.trigger('git'); const b = await h.waitForBuild('git'); … } finally { await h.close(); }
 *
 * or the whole scenario of the four builders in one call: `runScenario({ worker })`.
 * See README.md in this directory.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKER_NODE_FLAGS } from '../../src/node-flags.js';
import {
  type FileInfo,
  makeNormaliser,
  type NormBuild,
  normaliseBuild,
  type RawBuild,
  type RunResult,
} from './normalise.js';
import { isAlive, type Managed, ProcessSet } from './processes.js';
import { createGitProject, payload, sha256 } from './project.js';

export type WorkerKind = 'buildbot-worker' | 'lathe';

/** The builders of the end-to-end scenario (master.cfg also has `bench-stream`). */
export const SCENARIO_BUILDERS = ['git', 'shell-results', 'interrupted', 'transfers'] as const;

export const PYTHON = '/usr/bin/python3';
const TWISTD = '/usr/bin/twistd3';
const BUILDBOT = '/usr/bin/buildbot';
const BUILDBOT_WORKER = '/usr/bin/buildbot-worker';

export interface HarnessOptions {
  worker: WorkerKind;
  /** builders master.cfg defines; default SCENARIO_BUILDERS */
  builders?: readonly string[];
  /** c['logCompressionMethod']; default 'gz' (Buildbot's default) */
  logCompression?: 'raw' | 'gz' | 'bz2' | 'lz4';
  /** MiB printed by the `bench-stream` builder */
  benchMb?: number;
  /** Lathe worker CLI; default packages/worker/dist/src/cli.js next to this harness */
  latheCli?: string;
  /** Node binary that runs the Lathe worker; default the current one */
  latheNode?: string;
  /** parent of the run's temp directory; default os.tmpdir() */
  tmpRoot?: string;
  /** keep the temp directory after close() (its path is logged) */
  keep?: boolean;
  /** progress messages; default silent */
  log?: (msg: string) => void;
  /** bound for master start, worker connection; default 60 s */
  startTimeoutMs?: number;
}

export interface LogStats {
  bytes: number;
  lines: number;
  /** stream logs: content bytes per channel letter, newlines included */
  channelBytes: Record<string, number> | null;
}

export interface ProcStats {
  /** peak resident set (VmHWM), KiB */
  peakRssKiB: number;
  /** current resident set (VmRSS), KiB */
  rssKiB: number;
  /** user + system CPU seconds of the process itself (children excluded) */
  cpuSeconds: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const here = dirname(fileURLToPath(import.meta.url));

/** A non-TS file of this directory, whether running from test/ or from dist/test/. */
export function asset(name: string): string {
  for (const p of [join(here, name), join(here, '..', '..', '..', 'test', 'buildbot', name)]) {
    if (existsSync(p)) return p;
  }
  throw new Error(`harness asset ${name} not found near ${here}`);
}

function defaultLatheCli(): string {
  // from dist/test/buildbot/ (compiled) or test/buildbot/ (run as .ts): packages/worker/dist/src/cli.js
  const pkg = here.endsWith(join('dist', 'test', 'buildbot'))
    ? join(here, '..', '..', '..')
    : join(here, '..', '..');
  return join(pkg, 'dist', 'src', 'cli.js');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '<no file>';
  }
}

let clockTicks: number | undefined;
function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Memory and CPU figures of a live process from /proc. */
export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // fields after "(comm)": state is field 3; utime and stime are fields 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { peakRssKiB: kib('VmHWM'), rssKiB: kib('VmRSS'), cpuSeconds: (utime + stime) / clkTck() };
}

export class BuildbotHarness {
  readonly opts: HarnessOptions;
  readonly root: string;
  readonly masterDir: string;
  readonly workerDir: string;
  readonly controlDir: string;
  readonly homeDir: string;
  readonly workerName = 'harness-worker';
  readonly workerPassword = 'harness-pass';
  readonly runId: string;
  readonly procs: ProcessSet;
  readonly builders: readonly string[];
  port = 0;
  /** sha256 of files/payload.bin on the master (the FileDownload source) */
  payloadSha256 = '';
  gitRevision = '';
  master: Managed | undefined;
  worker: Managed | undefined;
  /** processes found carrying the run marker after master and worker stopped */
  stragglers: number[] = [];
  private closed = false;

  private constructor(opts: HarnessOptions) {
    this.opts = opts;
    this.builders = opts.builders ?? SCENARIO_BUILDERS;
    this.runId = randomBytes(8).toString('hex');
    this.root = mkdtempSync(join(opts.tmpRoot ?? tmpdir(), 'lathe-bb-'));
    this.masterDir = join(this.root, 'master');
    this.workerDir = join(this.root, 'worker');
    this.controlDir = join(this.masterDir, 'control');
    this.homeDir = join(this.root, 'home');
    this.procs = new ProcessSet(this.runId);
  }

  /** Sets everything up and returns once the worker is connected to the master. */
  static async create(opts: HarnessOptions): Promise<BuildbotHarness> {
    const h = new BuildbotHarness(opts);
    try {
      await h.setup();
    } catch (e) {
      const diag = h.diagnostics();
      await h.close();
      throw new Error(`${(e as Error).message}\n${diag}`);
    }
    return h;
  }

  private log(msg: string): void {
    this.opts.log?.(`[harness ${this.opts.worker}] ${msg}`);
  }

  /** The environment of every process the harness starts (plus the run marker). */
  baseEnv(): Record<string, string> {
    return {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: this.homeDir,
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      // master.cfg's `env` step removes it for its command (env value None)
      LATHE_UNSET_ME: 'present',
    };
  }

  private async setup(): Promise<void> {
    const env = this.baseEnv();
    mkdirSync(this.homeDir, { recursive: true });
    const t0 = performance.now();
    const [{ repo, revision }, port] = await Promise.all([
      createGitProject(this.procs, this.root, env),
      freePort(),
      this.procs.check(BUILDBOT, ['create-master', '--quiet', this.masterDir], {
        cwd: this.root,
        env,
        timeoutMs: 60_000,
      }),
    ]);
    this.port = port;
    this.gitRevision = revision;
    mkdirSync(join(this.masterDir, 'files'), { recursive: true });
    mkdirSync(this.controlDir, { recursive: true });
    const data = payload();
    writeFileSync(join(this.masterDir, 'files', 'payload.bin'), data);
    this.payloadSha256 = sha256(data);
    copyFileSync(asset('master.cfg'), join(this.masterDir, 'master.cfg'));
    const writeParams = () => {
      const params = {
        port: this.port,
        workerName: this.workerName,
        workerPassword: this.workerPassword,
        repoUrl: repo,
        builders: this.builders,
        logCompression: this.opts.logCompression ?? 'gz',
        benchMb: this.opts.benchMb ?? 100,
      };
      writeFileSync(join(this.masterDir, 'harness.json'), `${JSON.stringify(params, null, 2)}\n`);
    };
    this.log(`created master in ${this.masterDir} (${Math.round(performance.now() - t0)} ms)`);

    // The port was free a moment ago; if something took it meanwhile, the master still
    // says "BuildMaster is running" but logs CannotListenError: retry on another port.
    const logPath = join(this.masterDir, 'twistd.log');
    for (let attempt = 1; ; attempt++) {
      writeParams();
      rmSync(logPath, { force: true });
      this.master = this.procs.start(
        'master',
        PYTHON,
        [TWISTD, '--nodaemon', '--no_save', '-y', 'buildbot.tac'],
        { cwd: this.masterDir, env, logPath: join(this.root, 'master.out') },
      );
      let collided = false;
      await this.waitFor('the master to listen', async () => {
        this.assertRunning(this.master);
        const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
        collided = text.includes('CannotListenError');
        return collided || (text.includes('BuildMaster is running') && canConnect(this.port));
      });
      if (!collided) break;
      if (attempt === 3) throw new Error(`the master could not listen on a free port (last ${this.port})`);
      this.log(`port ${this.port} was taken; retrying`);
      await this.procs.stop(this.master);
      this.port = await freePort();
    }
    this.log(`master running (${Math.round(performance.now() - t0)} ms)`);

    await this.startWorker();
    await this.waitFor('the worker to connect', async () => {
      this.assertRunning(this.master);
      this.assertRunning(this.worker);
      const names = JSON.parse(await this.dbdump('workers')) as string[];
      return names.includes(this.workerName);
    });
    this.log(`worker connected (${Math.round(performance.now() - t0)} ms)`);
  }

  private async startWorker(): Promise<void> {
    const env = this.baseEnv();
    const master = `127.0.0.1:${this.port}`;
    const logPath = join(this.root, 'worker.out');
    if (this.opts.worker === 'buildbot-worker') {
      await this.procs.check(
        BUILDBOT_WORKER,
        ['create-worker', '--quiet', this.workerDir, master, this.workerName, this.workerPassword],
        { cwd: this.root, env },
      );
      this.worker = this.procs.start(
        'worker',
        PYTHON,
        [TWISTD, '--nodaemon', '--no_save', '-y', 'buildbot.tac'],
        {
          cwd: this.workerDir,
          env,
          logPath,
        },
      );
    } else {
      const node = this.opts.latheNode ?? process.execPath;
      const cli = resolve(this.opts.latheCli ?? defaultLatheCli()); // relative to our cwd
      await this.procs.check(
        node,
        [cli, 'create', this.workerDir, master, this.workerName, this.workerPassword],
        {
          cwd: this.root,
          env,
        },
      );
      // With the Node flags `lathe-worker start` gives its daemon.
      this.worker = this.procs.start(
        'worker',
        node,
        [...WORKER_NODE_FLAGS, cli, 'start', '--nodaemon', this.workerDir],
        {
          cwd: this.workerDir,
          env,
          logPath,
        },
      );
    }
  }

  private assertRunning(m: Managed | undefined): void {
    if (m && m.exit !== undefined) throw new Error(`${m.name} exited early (${m.exit})`);
  }

  /** Polls `cond` every 200 ms until true; throws after `timeoutMs`. */
  async waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs?: number): Promise<void> {
    const deadline = Date.now() + (timeoutMs ?? this.opts.startTimeoutMs ?? 60_000);
    for (;;) {
      if (await cond()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  /** Runs dbdump.py on the master's database; returns its JSON output. */
  async dbdump(...args: string[]): Promise<string> {
    return this.procs.check(PYTHON, [asset('dbdump.py'), join(this.masterDir, 'state.sqlite'), ...args], {
      cwd: this.root,
      env: this.baseEnv(),
      timeoutMs: 120_000,
    });
  }

  /** Every build the master knows (without steps). */
  async builds(): Promise<RawBuild[]> {
    return JSON.parse(await this.dbdump('builds')) as RawBuild[];
  }

  /** Every build with its steps and decoded logs (logs over `maxLines` lines: `text` null, `stats` set). */
  async fullDump(maxLines?: number): Promise<RawBuild[]> {
    const args = maxLines === undefined ? ['full'] : ['full', String(maxLines)];
    return JSON.parse(await this.dbdump(...args)) as RawBuild[];
  }

  /** Decoded size, line count and bytes per channel (stream logs: o, e, h) of a log. */
  async logStats(logid: number): Promise<LogStats> {
    return JSON.parse(await this.dbdump('logstats', String(logid))) as LogStats;
  }

  /** Triggers a build of `builder`: `buildbot sendchange` with category = builder name. */
  async trigger(builder: string): Promise<void> {
    await this.procs.check(
      BUILDBOT,
      [
        'sendchange',
        `--master=127.0.0.1:${this.port}`,
        '--auth=change:changepw',
        '--who=harness',
        `--category=${builder}`,
        '--branch=main',
        '--vc=git',
        `--comments=harness trigger for ${builder}`,
      ],
      { cwd: this.root, env: this.baseEnv(), timeoutMs: 60_000 },
    );
    this.log(`triggered ${builder}`);
  }

  /** Waits for build `number` (default 1) of `builder` to exist, then to complete (unless `started`). */
  async waitForBuild(
    builder: string,
    opts: { number?: number; timeoutMs?: number; started?: boolean } = {},
  ): Promise<RawBuild> {
    const number = opts.number ?? 1;
    let found: RawBuild | undefined;
    await this.waitFor(
      `build ${builder} #${number}${opts.started ? ' to start' : ''}`,
      async () => {
        this.assertRunning(this.master);
        found = (await this.builds()).find((b) => b.builder === builder && b.number === number);
        return found !== undefined && (opts.started === true || found.complete_at !== null);
      },
      opts.timeoutMs ?? 120_000,
    );
    return found!;
  }

  /**
   * Stops a running build the way the web UI's "stop" button does: the master's data
   * API, `master.data.control('stop', {reason}, ('builds', buildid))`, called by the
   * HarnessControl service in master.cfg when this file appears in its control dir.
   */
  stopBuild(buildid: number, reason = 'stopped by the harness'): void {
    writeFileSync(join(this.controlDir, `.tmp-${buildid}`), reason);
    // rename: the service never sees a half-written file
    execFileSync('mv', [
      join(this.controlDir, `.tmp-${buildid}`),
      join(this.controlDir, `stop-build-${buildid}`),
    ]);
    this.log(`asked the master to stop build ${buildid}`);
  }

  /** Absolute path of `rel` inside the worker's directory for `builder`. */
  workerPath(builder: string, rel: string): string {
    return join(this.workerDir, builder, rel);
  }

  workerStats(): ProcStats {
    if (!this.worker) throw new Error('no worker');
    return procStats(this.worker.pid);
  }

  /** Strings that identify this run, mapped to placeholders. */
  replacements(): Record<string, string> {
    return {
      [this.workerDir]: '<WORKER>',
      [this.masterDir]: '<MASTER>',
      [this.root]: '<TMP>',
      [this.runId]: '<RUN>',
      [hostname()]: '<HOST>',
    };
  }

  /** The builds of `builders` (default: all this harness defines), normalised. */
  async normalisedBuilds(builders: readonly string[] = this.builders): Promise<Record<string, NormBuild>> {
    const norm = makeNormaliser(this.replacements());
    const dump = await this.fullDump();
    const out: Record<string, NormBuild> = {};
    for (const name of builders) {
      const build = dump.find((b) => b.builder === name && b.number === 1);
      if (build) out[name] = normaliseBuild(build, norm);
    }
    return out;
  }

  /** Files below the master's uploads/ directory with checksums (sorted by path). */
  masterFiles(keepstamp: readonly string[] = ['stamped.txt']): Record<string, FileInfo> {
    const base = join(this.masterDir, 'uploads');
    const out: Record<string, FileInfo> = {};
    if (!existsSync(base)) return out;
    const files = (readdirSync(base, { recursive: true }) as string[])
      .map((f) => join(base, String(f)))
      .filter((f) => statSync(f).isFile())
      .sort();
    for (const f of files) {
      const st = statSync(f);
      const rel = relative(base, f);
      const info: FileInfo = {
        size: st.size,
        sha256: sha256(readFileSync(f)),
        mode: (st.mode & 0o7777).toString(8),
      };
      if (keepstamp.includes(rel)) info.mtime = new Date(Math.round(st.mtimeMs / 1000) * 1000).toISOString();
      out[rel] = info;
    }
    return out;
  }

  diagnostics(): string {
    return [
      `--- master twistd.log (${this.masterDir})`,
      tail(join(this.masterDir, 'twistd.log')),
      '--- master stdout/stderr',
      tail(join(this.root, 'master.out'), 20),
      '--- worker twistd.log',
      tail(join(this.workerDir, 'twistd.log')),
      '--- worker stdout/stderr',
      tail(join(this.root, 'worker.out')),
    ].join('\n');
  }

  /** Stops the worker, then the master, kills leftovers, removes the temp dir. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stragglers = await this.procs.closeAll();
    if (this.stragglers.length > 0) this.log(`killed leftover processes ${this.stragglers.join(' ')}`);
    if (this.opts.keep) this.log(`kept ${this.root}`);
    else rmSync(this.root, { recursive: true, force: true });
  }
}

function readPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The whole end-to-end scenario on one worker: triggers the four builders at once,
 * stops `interrupted` once its step's processes run (and checks they die), waits for
 * every build, and returns the normalised result.
 */
export async function runScenario(opts: HarnessOptions): Promise<RunResult> {
  const t0 = performance.now();
  const h = await BuildbotHarness.create({ ...opts, builders: SCENARIO_BUILDERS });
  const checks: Record<string, unknown> = {};
  const timings: Record<string, number> = {};
  try {
    timings.setup = (performance.now() - t0) / 1000;
    await Promise.all(SCENARIO_BUILDERS.map((b) => h.trigger(b)));

    // interrupted: wait for the shell and its background sleep, then stop the build.
    // Failures here and build timeouts below are recorded in `checks`, not thrown, so a
    // misbehaving worker still yields a result to compare.
    const shellPidFile = h.workerPath('interrupted', 'build/sleeper.pid');
    const childPidFile = h.workerPath('interrupted', 'build/child.pid');
    let shellPid: number | undefined;
    let childPid: number | undefined;
    const started = await h
      .waitFor(
        'the interrupted build to start its processes',
        () => {
          shellPid = readPid(shellPidFile);
          childPid = readPid(childPidFile);
          return shellPid !== undefined && childPid !== undefined;
        },
        60_000,
      )
      .then(
        () => true,
        () => false,
      );
    const alive = (pid: number | undefined) => pid !== undefined && isAlive(pid);
    checks.interruptedRunningBeforeStop = started && alive(shellPid) && alive(childPid);
    const running = await h
      .waitForBuild('interrupted', { started: true, timeoutMs: 10_000 })
      .catch(() => undefined);
    if (running) h.stopBuild(running.id);

    const timedOut: string[] = [];
    await Promise.all(
      SCENARIO_BUILDERS.map((b) =>
        h.waitForBuild(b, { timeoutMs: 120_000 }).catch(() => {
          timedOut.push(b);
        }),
      ),
    );
    if (timedOut.length > 0) {
      for (const b of await h.builds()) {
        if (timedOut.includes(b.builder) && b.complete_at === null)
          h.stopBuild(b.id, 'harness: build timed out');
      }
      await Promise.all(timedOut.map((b) => h.waitForBuild(b, { timeoutMs: 30_000 }).catch(() => undefined)));
    }
    checks.timedOutBuilds = timedOut.sort();
    for (const b of await h.builds()) {
      if (b.complete_at !== null) timings[`build:${b.builder}`] = b.complete_at - b.started_at;
    }
    // the worker reports the kill before the process is reaped: allow a moment
    for (let i = 0; i < 50 && (alive(shellPid) || alive(childPid)); i++) await sleep(100);
    checks.interruptedShellKilled = shellPid !== undefined && !isAlive(shellPid);
    checks.interruptedChildKilled = childPid !== undefined && !isAlive(childPid);
    checks.gitRevision = h.gitRevision;
    checks.payloadSha256 = h.payloadSha256;

    // Buildbot writes a finished step's summary a moment after the build completes (its
    // summary updates are debounced): read until two reads agree, so a loaded machine does
    // not catch a step still saying "running".
    let builders = await h.normalisedBuilds(SCENARIO_BUILDERS);
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      const again = await h.normalisedBuilds(SCENARIO_BUILDERS);
      if (JSON.stringify(again) === JSON.stringify(builders)) break;
      builders = again;
    }
    const masterFiles = h.masterFiles();
    await h.close();
    checks.leftoverProcesses = h.stragglers.length;
    timings.total = (performance.now() - t0) / 1000;
    return { worker: opts.worker, builders, masterFiles, checks, timings };
  } catch (e) {
    const diag = h.diagnostics();
    throw new Error(`${(e as Error).message}\n${diag}`);
  } finally {
    await h.close();
  }
}
