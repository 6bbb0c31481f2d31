// MasterShellCommand: a program run on the master itself (publishing artifacts, poking a
// deploy hook), not on the worker. Its output goes to the step's `stdio` log like a worker
// command's, redacted the same way; a build stop or `maxTime` kills its whole process group.
// Values from the build are data, never shell syntax: an argv list runs without a shell, and
// in a string command every value `interpolate` substitutes is quoted as one shell word.
import { spawn } from 'node:child_process';
import { isRenderable, RENDER, type Renderable, type RenderContext } from '../properties/renderable.js';
import { CANCELLED, FAILURE, type Result, SUCCESS } from '../results.js';
import { type StepValue, stepValue } from './args.js';
import { Step, type StepOptions } from './base.js';
import type { StepContext } from './contract.js';
import { masterPathOption, refusingEscapes } from './master-path.js';
import { stepNumber } from './option-values.js';
import { decodeRC, stepDecodeRC } from './shell.js';

export interface MasterShellCommandOptions extends StepOptions {
  /**
   * A string runs through `/bin/sh -c`, with each value `interpolate` puts in it single-quoted
   * (write `%(prop:x)s`, not `"%(prop:x)s"`); an argv list runs directly, without a shell.
   */
  readonly command: StepValue<string | readonly string[]>;
  /** Relative to the master's directory; default the master's directory (see `master-path.ts`). */
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

  run(ctx: StepContext): Promise<Result> {
    return refusingEscapes(ctx, () => this.#run(ctx));
  }

  async #run(ctx: StepContext): Promise<Result> {
    const o = this.options;
    const command = await stepValue(shellQuoted(o.command), ctx);
    const cwd = await masterPathOption(ctx, o.workdir ?? '.', 'workdir');
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

/** A string command's renderable, rendered with its substituted values shell-quoted. */
function shellQuoted(command: MasterShellCommandOptions['command']): MasterShellCommandOptions['command'] {
  if (!isRenderable(command)) return command;
  const quoting: Renderable = {
    [RENDER]: async (rc: RenderContext) => {
      const withQuoting: RenderContext = {
        properties: rc.properties,
        sourceStamp: rc.sourceStamp?.bind(rc),
        workerInfo: rc.workerInfo,
        getSecret: rc.getSecret?.bind(rc),
        quote: shellQuote,
      };
      return command[RENDER](withQuoting);
    },
  };
  return quoting as MasterShellCommandOptions['command'];
}

/** POSIX shell single quoting: the text is one word, whatever characters it has. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export const masterShellCommand = (o: MasterShellCommandOptions) => new MasterShellCommand(o);
