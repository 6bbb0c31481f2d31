// Runs a config in a child process first, so that a config which never settles or throws
// later cannot touch the running master.
//
// Why a child and not only guards in the master: the config holds functions (step
// factories, canStartBuild callbacks, renderables) that must live in the master, so it is
// imported there in the end; but an endless loop at load time would freeze the master for
// good, a promise that never settles would block every later reconfig, and a timer that
// throws after loading would kill the master with an uncaught exception. None of these can
// be undone once they run in-process, and an `uncaughtException` hook cannot tell which
// code threw. So the config runs in a child first (evaluate-child.ts), under a time limit
// and then a grace period during which what it left behind (timers, callbacks) may still
// throw; only a config that loaded, validated and stayed quiet there is imported here. The
// loader still bounds the in-process import by the same time limit, for a config that
// behaves differently the second time; its code runs twice, so load-time side effects
// (reading secrets, writing files) happen twice.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigIssue } from './errors.js';

const CHILD = fileURLToPath(new URL('./evaluate-child.js', import.meta.url));

/** What the child sends: `{ loaded: true }` once the config loaded, then one of these. */
export type EvaluationReply =
  | { readonly ok: true }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export interface IsolationLimits {
  /** How long loading may take, and how long the child may then stay busy. */
  readonly timeLimitMs: number;
  /** How long after loading the child waits for a late throw. */
  readonly graceMs: number;
}

/** Node's exit code for a process whose top-level await can never settle. */
const UNSETTLED_TOP_LEVEL_AWAIT = 13;

/** Resolves if the config loads, validates and stays quiet in a child; else a ConfigError. */
export function evaluateIsolated(file: string, limits: IsolationLimits): Promise<void> {
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [file, String(limits.graceMs)], {
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    let loaded = false;
    let settled = false;
    let timer: NodeJS.Timeout;
    const finish = (problem: string | readonly ConfigIssue[] | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (problem === null) resolve();
      else
        reject(
          new ConfigError(
            file,
            typeof problem === 'string'
              ? [{ path: '', message: problem, location: { file, line: 1 } }]
              : problem,
          ),
        );
    };
    const arm = (ms: number, problem: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(problem), ms);
    };
    arm(
      limits.timeLimitMs,
      `did not finish loading within ${seconds(limits.timeLimitMs)}: an await that never settles or an endless loop`,
    );
    child.on('message', (message: EvaluationReply | { loaded: true }) => {
      if ('loaded' in message) {
        loaded = true;
        arm(
          limits.graceMs + limits.timeLimitMs,
          `kept running after loading and did not answer for ${seconds(limits.graceMs + limits.timeLimitMs)}: an endless loop in a timer or callback`,
        );
      } else finish(message.ok ? null : message.issues);
    });
    child.on('error', (err) => finish(`could not be evaluated in a child process: ${err.message}`));
    child.on('close', (code, signal) => {
      if (settled) return;
      if (code === UNSETTLED_TOP_LEVEL_AWAIT && !loaded)
        finish('never finishes loading: it awaits a promise that nothing can settle');
      else
        finish(
          `ended the process ${loaded ? 'after' : 'while'} loading (${signal ?? `exit code ${code}`})` +
            (stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''),
        );
    });
  });
}
