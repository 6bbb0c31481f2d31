// Helpers shared by the master benchmarks: temp dirs, child processes that are always
// cleaned up, /proc figures, Lathe master configs, and a scripted PB worker (the approach of
// packages/master/test/worker-port.test.ts) that answers every command at once.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { connect, type Kwargs, type PBConnection, Referenceable, type RemoteReference } from '@lathe/pb';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const LATHE_INDEX = pathToFileURL(join(ROOT, 'packages/master/dist/src/index.js')).href;

/** Epoch milliseconds with sub-millisecond resolution; comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

export function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** VmHWM / VmRSS of a process in MB (from /proc/<pid>/status). */
export function memory(pid: number | 'self'): { hwmMB: number; rssMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { hwmMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

// --- child processes: each started in its own process group, killed on exit ---

const children = new Set<ChildProcess>();

export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export function killAll(): void {
  for (const c of children) killGroup(c);
  children.clear();
}

process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

export function startChild(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: 'pipe' | 'ignore' } = {},
): ChildProcess {
  const child = spawn(cmd, [...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['pipe', options.stdout ?? 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Stops a child: signal to its group, SIGKILL after `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child, signal);
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** JSON lines from a child's stdout: `next(pred)` waits for the first matching message. */
/** The lines a child prints on stdout, each parsed (or skipped when parse gives undefined). */
class ChildLines<T> {
  readonly #queue: T[] = [];
  readonly #waiters: Array<{ pred: (m: T) => boolean; resolve: (m: T) => void }> = [];
  #ended = false;
  readonly child: ChildProcess;
  readonly what: string;
  constructor(child: ChildProcess, what: string, parse: (line: string) => T | undefined) {
    this.child = child;
    this.what = what;
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        const msg = parse(line);
        if (msg === undefined) continue;
        const w = this.#waiters.findIndex((x) => x.pred(msg));
        if (w >= 0) this.#waiters.splice(w, 1)[0]!.resolve(msg);
        else this.#queue.push(msg);
      }
    });
    child.once('exit', () => {
      this.#ended = true;
    });
  }

  next(pred: (m: T) => boolean, timeoutMs: number): Promise<T> {
    const i = this.#queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.what}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = () => reject(new Error(`${this.what} exited (code ${this.child.exitCode})`));
      if (this.#ended) onExit();
      this.child.once('exit', onExit);
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          resolve(m);
        },
      });
    });
  }
}

/** A child speaking JSON lines both ways (master-proc.ts, sim-workers.ts). */
export class JsonLines extends ChildLines<Record<string, unknown>> {
  constructor(child: ChildProcess, what: string) {
    super(child, what, (line) =>
      line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : undefined,
    );
  }

  send(msg: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(msg)}\n`);
  }
}

/** A child's plain log lines (e.g. `lathe start --nodaemon`). */
export class TextLines extends ChildLines<string> {
  constructor(child: ChildProcess, what = 'child') {
    super(child, what, (line) => line);
  }
}

export function nodeScript(script: string, args: readonly string[]): ChildProcess {
  return startChild(process.execPath, [join(ROOT, 'bench/master', script), ...args]);
}

// --- Lathe master configuration ---

export interface LatheConfigSpec {
  workers: number;
  builders?: number;
  /** Shell command of the single step, argv form. */
  command?: readonly string[];
  /** One builder per entry (b0, b1, …) with that command; overrides `builders` and `command`. */
  commands?: readonly (readonly string[])[];
  workerPort?: number;
}

export function writeLatheConfig(dir: string, spec: LatheConfigSpec): void {
  const workers = Array.from({ length: spec.workers }, (_, i) => `{ name: 'w${i}', password: 'pw' }`);
  const names = JSON.stringify(Array.from({ length: spec.workers }, (_, i) => `w${i}`));
  const commands =
    spec.commands ?? Array.from({ length: spec.builders ?? 1 }, () => spec.command ?? ['true']);
  const builders = commands.map(
    (command, i) =>
      `{ name: 'b${i}', workerNames: ${names}, collapseRequests: false, factory: buildFactory(shellCommand({ name: 'step', command: ${JSON.stringify(command)} })) }`,
  );
  const builderNames = JSON.stringify(commands.map((_, i) => `b${i}`));
  // Changes come in as Buildbot's do: the PB change source (user change/changepw) and one
  // single-branch scheduler on 'main' that builds every change at once on every builder.
  writeFileSync(
    join(dir, 'master.config.ts'),
    `import { buildFactory, defineConfig, pbChangeSource, shellCommand, singleBranchScheduler } from '${LATHE_INDEX}';
export default defineConfig({
  workerPort: ${spec.workerPort ?? 0},
  workers: [${workers.join(', ')}],
  builders: [${builders.join(',\n    ')}],
  changeSources: [pbChangeSource()],
  schedulers: [singleBranchScheduler({ name: 'main', branch: 'main', treeStableTimer: null, builderNames: ${builderNames} })],
});
`,
  );
}

// --- a scripted PB worker ---

export type CommandObserver = (builder: string, name: string, args: Record<string, unknown>) => void;

class ScriptedBuilder extends Referenceable {
  readonly builderName: string;
  readonly observe: CommandObserver;
  constructor(builderName: string, observe: CommandObserver) {
    super();
    this.builderName = builderName;
    this.observe = observe;
  }
  remote_startBuild() {
    return null;
  }
  remote_startCommand(cmd: RemoteReference, _id: string, name: string, args: Record<string, unknown>) {
    this.observe(this.builderName, name, args);
    // As a fast command does: rc and complete right after the answer.
    queueMicrotask(() => {
      void (async () => {
        try {
          await cmd.callRemote('update', [[{ rc: 0 }, 0]]);
          await cmd.callRemote('complete', null);
          cmd.release();
        } catch {
          // Master gone.
        }
      })();
    });
    return null;
  }
  remote_interruptCommand() {
    return null;
  }
}

class ScriptedBot extends Referenceable {
  readonly #builders = new Map<string, ScriptedBuilder>();
  readonly observe: CommandObserver;
  constructor(observe: CommandObserver) {
    super();
    this.observe = observe;
  }
  remote_print(_kw: Kwargs) {
    return null;
  }
  remote_getWorkerInfo() {
    return { version: 'bench-1', worker_commands: { shell: '3.1' }, host: 'bench' };
  }
  remote_getCommands() {
    return { shell: '3.1' };
  }
  remote_getVersion() {
    return 'bench-1';
  }
  remote_setBuilderList(list: unknown[]) {
    const out: Record<string, ScriptedBuilder> = {};
    for (const [name] of list as [string, string][]) {
      const b = this.#builders.get(name) ?? new ScriptedBuilder(name, this.observe);
      this.#builders.set(name, b);
      out[name] = b;
    }
    return out;
  }
  remote_shutdown() {
    return null;
  }
}

export interface ScriptedWorker {
  readonly conn: PBConnection;
  readonly perspective: RemoteReference;
}

/** Logs a scripted worker in; resolves once the master answered the login (attached). */
export async function scriptedWorker(
  port: number,
  name: string,
  password: string,
  observe: CommandObserver = () => {},
): Promise<ScriptedWorker> {
  const conn = await connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
  const perspective = await conn.login(name, password, new ScriptedBot(observe));
  return { conn, perspective };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  pollMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

// --- reading a master's state.sqlite from outside (Buildbot's and Lathe's share the schema) ---

/** One short read-only query; the master keeps writing meanwhile. */
export function queryState<T>(file: string, sql: string): T[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 2000');
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

export function completedBuilds(file: string): number {
  return Number(
    queryState<{ n: number }>(file, 'SELECT count(*) AS n FROM builds WHERE complete_at IS NOT NULL')[0]?.n ??
      0,
  );
}

export function successfulBuilds(file: string): number {
  return Number(
    queryState<{ n: number }>(file, 'SELECT count(*) AS n FROM builds WHERE results = 0')[0]?.n ?? 0,
  );
}
