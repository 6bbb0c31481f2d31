/**
 * rmdir and cpdir run `rm`/`cp` in the worker base directory with the usual
 * shell headers and output, but without their own `rc` update: the command
 * sends one rc at the end.
 */
import { RunProcess } from '../process/run-process.js';
import type { Update } from '../protocol/values.js';
import type { CommandContext } from './command.js';

export interface HelperOptions {
  timeout: number | null;
  maxTime: number | null;
  logEnviron: boolean;
}

export function helperProcess(
  context: CommandContext,
  argv: string[],
  options: HelperOptions,
  sendUpdate: (updates: Update[]) => void,
): RunProcess {
  const settings = context.settings ?? {};
  return new RunProcess({
    command: argv,
    workdir: context.workerBasedir,
    sendUpdate,
    sendRC: false,
    timeout: options.timeout,
    maxTime: options.maxTime,
    logEnviron: options.logEnviron,
    usePTY: false,
    workerEnv: settings.environment,
    killLeftovers: settings.killLeftovers,
    killGraceMs: settings.killGraceSeconds === undefined ? undefined : settings.killGraceSeconds * 1000,
  });
}
