#!/usr/bin/env node
/**
 * `lathe-worker`: create, start, stop and restart a Lathe worker. Exit status
 * 0 on success, 1 when something failed, 2 for a usage mistake.
 */
import { runWhenInvoked, UsageError } from '@lathe/daemon';
import { createHelp, createWorker } from './cli/create.js';
import { startHelp, startWorker } from './cli/start.js';
import { restartHelp, restartWorker, stopHelp, stopWorker } from './cli/stop.js';
import { ConfigError } from './config.js';
import { WORKER_VERSION } from './version.js';

export const mainHelp = `Usage: lathe-worker <command> [options]

Runs build commands for a Lathe or Buildbot master. The worker connects out to
the master (so it works behind a firewall) and needs only Node.js.

Commands:
  create <basedir> <master-host:port> <name> <password>   set up a worker directory
  start [basedir]                                          start the worker (background)
  stop [basedir]                                           stop it
  restart [basedir]                                        stop, then start

Run 'lathe-worker <command> --help' for the options of a command.

Options:
  -h, --help       show this help
  -V, --version    show the version
`;

const commands: Record<
  string,
  { run: (argv: string[], out: (l: string) => void) => number | Promise<number>; help: string }
> = {
  create: { run: createWorker, help: createHelp },
  start: { run: startWorker, help: startHelp },
  stop: { run: stopWorker, help: stopHelp },
  restart: { run: restartWorker, help: restartHelp },
};

export async function main(
  argv: string[],
  out = (line: string) => console.log(line),
  err = (line: string) => console.error(line),
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? err : out)(mainHelp);
    return name === undefined ? 2 : 0;
  }
  if (name === '-V' || name === '--version') {
    out(WORKER_VERSION);
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    err(`lathe-worker: unknown command '${name}'\n\n${mainHelp}`);
    return 2;
  }
  try {
    return await command.run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`lathe-worker ${name}: ${e.message}${e.help ? `\n\n${e.help}` : ''}`);
      return 2;
    }
    if ((e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`lathe-worker ${name}: ${(e as Error).message}\n\n${command.help}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      err(`lathe-worker ${name}: ${e.message}`);
      return 1;
    }
    err(`lathe-worker ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

runWhenInvoked(/(?:cli\.js|lathe-worker(?:\.js)?)$/, main);
