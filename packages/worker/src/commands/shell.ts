/** `shell`: run a program in a workdir and stream its output (see RunProcess). */
import { RunProcess } from '../process/run-process.js';
import { BadArgsError } from '../protocol/failure.js';
import { isPlainObject } from '../protocol/values.js';
import { pyJoin } from '../util/pypath.js';
import { boolArg, numberArg, optionalTextArg, textArg } from './args.js';
import { Command } from './command.js';

export class ShellCommand extends Command {
  static readonly requiredArgs = ['workdir', 'command'];
  private process: RunProcess | undefined;

  protected async start(): Promise<void> {
    const args = this.args;
    const command = args.command;
    if (typeof command !== 'string' && !Array.isArray(command)) {
      throw new BadArgsError("'command' must be a string or a list", 'builtins.TypeError');
    }
    const logfiles = args.logfiles ?? {};
    if (!isPlainObject(logfiles))
      throw new BadArgsError("'logfiles' must be a dictionary", 'builtins.TypeError');
    const initialStdin = args.initial_stdin;
    if (initialStdin !== undefined && initialStdin !== null && typeof initialStdin !== 'string') {
      throw new BadArgsError("'initial_stdin' must be text", 'builtins.TypeError');
    }
    const settings = this.settings;
    this.process = new RunProcess({
      command,
      workdir: pyJoin(this.context.builderDir, textArg(args, 'workdir')),
      sendUpdate: (updates) => this.sendUpdate(updates),
      flow: this.context.host.flow,
      env: args.env,
      sendStdout: boolArg(args, 'want_stdout', true),
      sendStderr: boolArg(args, 'want_stderr', true),
      sendRC: true,
      timeout: numberArg(args, 'timeout'),
      maxTime: numberArg(args, 'maxTime'),
      sigtermTime: numberArg(args, 'sigtermTime'),
      initialStdin: initialStdin ?? null,
      logEnviron: boolArg(args, 'logEnviron', true),
      logfiles,
      usePTY: boolArg(args, 'usePTY', false),
      interruptSignal: optionalTextArg(args, 'interruptSignal') || 'KILL',
      workerEnv: settings.environment,
      killLeftovers: settings.killLeftovers,
      killGraceMs: settings.killGraceSeconds === undefined ? undefined : settings.killGraceSeconds * 1000,
    });
    await this.process.start();
  }

  protected override interrupt(): void {
    this.process?.kill('command interrupted');
  }
}
