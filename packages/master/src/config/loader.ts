// Loads master.config.ts: type-checks it on request (`tsc --noEmit`), runs it in an isolated
// child under a time limit (isolated-evaluation.ts says why), then imports it in this process
// (import-config.ts). Every failure is a ConfigError that says where.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { importConfig } from './import-config.js';
import { evaluateIsolated } from './isolated-evaluation.js';
import type { ResolvedConfig } from './types.js';

export interface LoadConfigOptions {
  /** Also type-check the config with `tsc --noEmit` (slower; needs `typescript`). */
  readonly typecheck?: boolean;
  /** How long loading may take; default $LATHE_CONFIG_TIME_LIMIT seconds, else 30 s. */
  readonly timeLimitMs?: number;
  /** How long after loading a late throw is still caught; default 500 ms. */
  readonly graceMs?: number;
}

export interface LoadedConfig {
  readonly file: string;
  readonly config: ResolvedConfig;
}

export const CONFIG_TIME_LIMIT_ENV = 'LATHE_CONFIG_TIME_LIMIT';
const DEFAULT_TIME_LIMIT_MS = 30_000;
const DEFAULT_GRACE_MS = 500;

/** The time limit from $LATHE_CONFIG_TIME_LIMIT (seconds), if set to a positive number. */
function timeLimitFromEnv(): number | undefined {
  const seconds = Number(process.env[CONFIG_TIME_LIMIT_ENV]);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

export async function loadConfig(fileArg: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = resolve(fileArg);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }], {
      cause: err,
    });
  }
  if (options.typecheck) {
    const issues = await typecheckConfig(file);
    if (issues.length > 0) throw new ConfigError(file, issues);
  }
  const timeLimitMs = options.timeLimitMs ?? timeLimitFromEnv() ?? DEFAULT_TIME_LIMIT_MS;
  await evaluateIsolated(file, { timeLimitMs, graceMs: options.graceMs ?? DEFAULT_GRACE_MS });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConfigError(file, [
            {
              path: '',
              message: `loaded in a child process but did not finish loading here within ${timeLimitMs / 1000} s`,
              location: { file, line: 1 },
            },
          ]),
        ),
      timeLimitMs,
    );
  });
  try {
    return { file, config: await Promise.race([importConfig(file, source), timedOut]) };
  } finally {
    clearTimeout(timer);
  }
}

function findTsc(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('typescript/package.json');
    const bin = join(dirname(pkg), 'bin', 'tsc');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `tsc --noEmit` on the config alone and returns its errors as issues. */
export async function typecheckConfig(file: string): Promise<ConfigIssue[]> {
  const tsc = findTsc();
  if (!tsc) return [{ path: '', message: 'cannot type-check: the typescript package is not installed' }];
  const args = [
    '--noEmit',
    '--pretty',
    'false',
    '--strict',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--allowImportingTsExtensions',
    '--skipLibCheck',
    file,
  ];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((done, fail) => {
    const child = spawn(process.execPath, [tsc, ...args], {
      cwd: dirname(file),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.on('error', fail);
    child.on('close', (c) => done({ code: c, output }));
  });
  if (code === 0) return [];
  const issues: ConfigIssue[] = [];
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line.trim());
    if (m) {
      issues.push({
        path: '',
        message: `type error ${m[4]}: ${m[5]}`,
        location: { file: resolve(dirname(file), m[1]!), line: Number(m[2]), column: Number(m[3]) },
      });
    }
  }
  if (issues.length === 0)
    issues.push({ path: '', message: `type check failed: ${output.trim().slice(0, 2000)}` });
  return issues;
}
