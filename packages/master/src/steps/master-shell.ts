// MasterShellCommand: a program run on the master itself (publishing artifacts, poking a
// deploy hook), not on the worker. Its output goes to the step's `stdio` log like a worker
// command's, redacted the same way; a build stop or `maxTime` kills its whole process group.
import { spawn } from 'node:child_process';
import { CANCELLED, FAILURE, type Result, SUCCESS } from '../results.js';
import { type StepValue, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';
import type { StepContext } from './contract.js';
import { stepNumber } from './option-values.js';
import { decodeRC, stepDecodeRC } from './shell.js';
import { masterPath } from './transfer/steps.js';

export interface MasterShellCommandOptions extends StepOptions {
  /** A string runs through `/bin/sh -c`; an argv list runs directly. */
  readonly command: StepValue<string | readonly string[]>;
  /** Relative to the master's directory; default the master's directory. */
  readonly workdir?: StepValue<string>;
  /** Added to the master's environment; null removes a variable. */
  readonly env?: StepValue<Readonly<Record<string, string | null>>>;
  /** Seconds before the command is killed; default none. */
  readonly maxTime?: StepValue<number | null>;
  readonly decodeRC?: StepValue<Readonly<Record<number, Result>>>;
}

export class MasterShellCommand extends Step<MasterShellCommandOptions> {
  constructor(options: MasterShellCommandOptions) {
    super(options, 'MasterShellCommand');
  }

  async run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const command = await stepValue(o.command, ctx);
    const cwd = masterPath(ctx, o.workdir === undefined ? '.' : await stepValue(o.workdir, ctx));
    const env: Record<string, string | undefined> = { ...process.env };
    for (const [k, v] of Object.entries(o.env === undefined ? {} : await stepValue(o.env, ctx))) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    const maxTime = o.maxTime === undefined ? null : await stepNumber(o.maxTime, ctx, 'maxTime');
    const rcTable = o.decodeRC === undefined ? undefined : await stepDecodeRC(o.decodeRC, ctx);
    const argv = typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
    const log = await ctx.addLog('stdio');
    await log.write('h', `${argv.map((a) => JSON.stringify(a)).join(' ')}\n in dir ${cwd}\n`);
    if (ctx.signal.aborted) return CANCELLED;
    const [file, ...args] = argv;
    if (file === undefined) return FAILURE;
    // Its own process group, so a stop kills what the shell started too.
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let writes = Promise.resolve();
    const forward = (stream: 'o' | 'e') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      writes = writes.then(() => log.write(stream, text));
    };
    child.stdout.on('data', forward('o'));
    child.stderr.on('data', forward('e'));
    let killedFor: string | null = null;
    const kill = (why: string) => {
      killedFor ??= why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already exited.
      }
    };
    const onAbort = () => kill('build stopped');
    ctx.signal.addEventListener('abort', onAbort);
    const timer =
      maxTime === null ? undefined : setTimeout(() => kill(`maxTime ${maxTime}s exceeded`), maxTime * 1000);
    try {
      const rc = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve(code));
      });
      await writes;
      if (killedFor) await log.write('h', `command killed: ${killedFor}\n`);
      await log.write('h', `program finished with exit code ${rc ?? 'none'}\n`);
      if (ctx.signal.aborted) return CANCELLED;
      return rc === null ? FAILURE : decodeRC(rc, rcTable ?? { 0: SUCCESS });
    } catch (err) {
      await writes;
      await log.write('h', `cannot run ${file}: ${(err as Error).message}\n`);
      return FAILURE;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }
}

export const masterShellCommand = (o: MasterShellCommandOptions) => new MasterShellCommand(o);
