// Spawns the Twisted side of the PB interop tests: pbpeer.py (beside this file's source) run by
// Debian's Python, which has Twisted 22.4. This module only spawns processes; it does not import
// @lathe/pb. See README.md beside this file.
//
//   const server = await startTwistedServer();            // Python PB server on 127.0.0.1:server.port
//   ... connect the TS client to server.port ...
//   await server.stop();
//
//   const { checks, code } = await runTwistedClient(tsServerPort, 'echo-types');
//   // one entry per check printed by the Python client; code 0 iff all passed
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The only Python with Twisted on the test machines (the `python3` on PATH may lack it). */
export const TWISTED_PYTHON: string = process.env.LATHE_TWISTED_PYTHON ?? '/usr/bin/python3';

/** Client scenarios that need only the root-level API of Lathe's TS echo server. */
export const TWISTED_CLIENT_SCENARIOS = [
  'echo-types',
  'add',
  'errors',
  'callback',
  'login',
  'copyable',
  'cacheable',
] as const;

export interface TwistedCheck {
  check: string;
  ok: boolean;
  detail?: unknown;
}

export interface TwistedServer {
  port: number;
  pid: number;
  /** Stops the server (stdin EOF, then SIGTERM, then SIGKILL); resolves once it has exited. */
  stop(): Promise<void>;
  /** What the server wrote on stderr so far (tail; start it with `verbose` for Twisted's log). */
  stderr(): string;
}

export interface TwistedServerOptions {
  /** Root object also offers the Calc API (echo, add, fail, callMeBack, getThing, ...) besides login. */
  rootMethods?: boolean;
  /** Send real tracebacks in CopyableFailures (PBServerFactory(unsafeTracebacks=True)). */
  unsafeTracebacks?: boolean;
  /** Log Twisted's events (including every failed remote call) to stderr. */
  verbose?: boolean;
  /** How long to wait for "PORT <n>" (default 20 s). */
  startTimeoutMs?: number;
}

export interface TwistedClientOptions {
  host?: string;
  /** Hard limit for the whole client process (default 90 s); the Python side stops itself 5 s earlier. */
  timeoutMs?: number;
  /** Per-call limit inside the Python client, in seconds (default 10). */
  callTimeoutS?: number;
}

export interface TwistedClientResult {
  checks: TwistedCheck[];
  /** Exit status of the Python client: 0 iff every check passed; -1 if it was killed or died by a signal. */
  code: number;
  stderr: string;
}

const PEER_RELATIVE = join('packages', 'pb', 'test', 'twisted', 'pbpeer.py');
const STDERR_KEEP = 64 * 1024;

/**
 * Absolute path of pbpeer.py. Works from the compiled file (packages/pb/dist/test/twisted/peer.js)
 * and from the source (packages/pb/test/twisted/peer.ts): walks up to the repository root.
 * LATHE_PBPEER overrides it.
 */
export function pbpeerPath(): string {
  const override = process.env.LATHE_PBPEER;
  if (override) return resolve(override);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PEER_RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `${PEER_RELATIVE} not found above ${fileURLToPath(import.meta.url)} (set LATHE_PBPEER)`,
      );
    }
    dir = parent;
  }
}

let available: boolean | undefined;

/** True if TWISTED_PYTHON can import twisted.spread.pb (for `test(..., { skip: !twistedAvailable() })`). */
export function twistedAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync(TWISTED_PYTHON, ['-c', 'import twisted.spread.pb'], {
      stdio: 'ignore',
      timeout: 20_000,
    });
    available = r.status === 0;
  }
  return available;
}

// Every child we started and that has not exited yet; killed if this Node process exits. The
// children also run with --watch-stdin, so they exit by themselves when our end of their stdin
// closes (e.g. when this process is killed).
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolveWait) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolveWait(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolveWait(true);
    };
    child.once('exit', onExit);
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  if (await waitExit(child, 2_000)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, 3_000)) return;
  child.kill('SIGKILL');
  await waitExit(child, 5_000);
}

function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) {
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

function tail(s: string): string {
  return s.length > STDERR_KEEP ? s.slice(s.length - STDERR_KEEP) : s;
}

/** Starts `pbpeer.py --serve --port 0` and resolves once it prints "PORT <n>". */
export async function startTwistedServer(options: TwistedServerOptions = {}): Promise<TwistedServer> {
  const args = [pbpeerPath(), '--serve', '--port', '0', '--host', '127.0.0.1', '--watch-stdin'];
  if (options.rootMethods) args.push('--root-methods');
  if (options.unsafeTracebacks) args.push('--unsafe-tracebacks');
  if (options.verbose) args.push('--verbose');
  const child = spawn(TWISTED_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = tail(stderr + chunk);
  });
  child.stdout.setEncoding('utf8');

  return new Promise<TwistedServer>((resolveStart, rejectStart) => {
    let settled = false;
    let stopping: Promise<void> | undefined;
    const fail = (why: string, waitForExit = true) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const error = () =>
        new Error(`Twisted PB server (${TWISTED_PYTHON} ${args.join(' ')}): ${why}\n${stderr}`);
      const stopped = terminate(child);
      if (waitForExit) void stopped.finally(() => rejectStart(error()));
      else rejectStart(error());
    };
    const timer = setTimeout(
      () => fail(`no "PORT <n>" within ${options.startTimeoutMs ?? 20_000} ms`),
      options.startTimeoutMs ?? 20_000,
    );
    child.once('error', (err) => fail(`spawn failed: ${err.message}`, false));
    child.once('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    child.stdout.on('data', (chunk: string) => {
      if (settled) return;
      stdout += chunk;
      const m = /^PORT (\d+)$/m.exec(stdout);
      if (!m?.[1]) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.resume(); // keep draining anything else it prints
      unrefChild(child); // a forgotten server must not keep the test process alive
      resolveStart({
        port: Number(m[1]),
        pid: child.pid ?? -1,
        stop: () => {
          stopping ??= terminate(child);
          return stopping;
        },
        stderr: () => stderr,
      });
    });
  });
}

/**
 * Runs `pbpeer.py --connect 127.0.0.1:<port> --scenario <scenario>` against a PB server (the TS
 * echo server) and collects its JSON check lines. Never rejects for failed checks or a timeout
 * (those show in `checks`/`code`); rejects only if the Python process cannot be spawned.
 */
export async function runTwistedClient(
  port: number,
  scenario: string,
  options: TwistedClientOptions = {},
): Promise<TwistedClientResult> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const pyTimeoutS = Math.max(1, (timeoutMs - 5_000) / 1000);
  const args = [
    pbpeerPath(),
    '--connect',
    `${options.host ?? '127.0.0.1'}:${port}`,
    '--scenario',
    scenario,
    '--timeout',
    String(pyTimeoutS),
    '--call-timeout',
    String(options.callTimeoutS ?? 10),
    '--watch-stdin',
  ];
  const child = spawn(TWISTED_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  const checks: TwistedCheck[] = [];
  let stdout = '';
  let stderr = '';
  let killedByUs = false;

  const takeLines = (final: boolean) => {
    const lines = stdout.split('\n');
    stdout = final ? '' : (lines.pop() ?? '');
    for (const line of lines) {
      const t = line.trim();
      if (!t.startsWith('{')) continue;
      try {
        const rec = JSON.parse(t) as Partial<TwistedCheck>;
        if (typeof rec.check === 'string' && typeof rec.ok === 'boolean') {
          checks.push({ check: rec.check, ok: rec.ok, detail: rec.detail });
        }
      } catch {
        checks.push({ check: 'unparsable-output', ok: false, detail: t });
      }
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    takeLines(false);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = tail(stderr + chunk);
  });

  return new Promise<TwistedClientResult>((resolveRun, rejectRun) => {
    const timer = setTimeout(() => {
      killedByUs = true;
      void terminate(child);
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      rejectRun(new Error(`cannot run ${TWISTED_PYTHON} ${args.join(' ')}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      takeLines(true);
      if (killedByUs) {
        checks.push({ check: 'timeout', ok: false, detail: `killed after ${timeoutMs} ms` });
      }
      resolveRun({ checks, code: code ?? -1, stderr });
    });
  });
}
