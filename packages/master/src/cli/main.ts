#!/usr/bin/env node
// `lathe`: create, run and talk to a build master. Each subcommand lives in commands/;
// this file only dispatches and turns errors into messages and exit codes.
import { readFileSync } from 'node:fs';
import { AlreadyRunningError, runWhenInvoked } from '@lathe/daemon';
import { ConnectionLostError } from '@lathe/pb';
import { ConfigError } from '../config/errors.js';
import { CopyRefusedError } from '../db/copy.js';
import { DatabaseConnectError, UnsupportedDatabaseUrlError } from '../db/errors.js';
import { ListenError } from '../listen-error.js';
import { serviceFailureCause } from '../service.js';
import { ApiClientError } from './api-client.js';
import { buildsCommand } from './commands/builds.js';
import { cancelRequestCommand } from './commands/cancel-request.js';
import { checkconfigCommand } from './commands/checkconfig.js';
import { copyDbCommand } from './commands/copy-db.js';
import { createMasterCommand } from './commands/create-master.js';
import { forceCommand } from './commands/force.js';
import { hashPasswordCommand } from './commands/hash-password.js';
import { logCommand } from './commands/log.js';
import { quickstartCommand } from './commands/quickstart.js';
import { reconfigCommand } from './commands/reconfig.js';
import { sendchangeCommand } from './commands/sendchange.js';
import { showCommand } from './commands/show.js';
import { restartCommand, startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { stopBuildCommand } from './commands/stop-build.js';
import { tryCommand } from './commands/try.js';
import { upgradeMasterCommand } from './commands/upgrade-master.js';
import { workerCommand } from './commands/worker.js';
import { ControlAuthError, ControlUnreachableError, MasterNotRunningError } from './control-client.js';
import { ControlSecretError } from './masterdir.js';
import { type Command, EXIT, type Io, UsageError } from './usage.js';

const commands: Record<string, Command> = {
  quickstart: quickstartCommand,
  'create-master': createMasterCommand,
  start: startCommand,
  stop: stopCommand,
  restart: restartCommand,
  reconfig: reconfigCommand,
  checkconfig: checkconfigCommand,
  'upgrade-master': upgradeMasterCommand,
  'copy-db': copyDbCommand,
  force: forceCommand,
  'stop-build': stopBuildCommand,
  'cancel-request': cancelRequestCommand,
  status: statusCommand,
  sendchange: sendchangeCommand,
  try: tryCommand,
  worker: workerCommand,
  builds: buildsCommand,
  show: showCommand,
  log: logCommand,
  'hash-password': hashPasswordCommand,
};

export const mainHelp = `Usage: lathe <command> [options]

Runs a Lathe build master. Most commands take the master directory as an
argument (default: the current directory).

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`)
  .join('\n')}

Run 'lathe <command> --help' for a command's options.
Exit status: 0 success, 1 failure, 2 usage error, 3 (force) gave up waiting.

Options:
  -h, --help       show this help
  -V, --version    show the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `lathe ${pkg.version} (node ${process.version})`;
}

const defaultIo: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-V' || name === '--version') {
    io.out(version());
    return EXIT.OK;
  }
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.err : io.out)(mainHelp);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.err(`lathe: unknown command ${JSON.stringify(name)}\n\n${mainHelp}`);
    return EXIT.USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (thrown) {
    const e = serviceFailureCause(thrown);
    if (e instanceof UsageError) {
      io.err(`lathe ${name}: ${e.message}\n\n${e.help ?? command.help}`);
      return EXIT.USAGE;
    }
    if ((e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`lathe ${name}: ${(e as Error).message}\n\n${command.help}`);
      return EXIT.USAGE;
    }
    if (e instanceof ConnectionLostError) {
      // The control connection dropped mid-command (the master stopped or crashed).
      io.err(`lathe ${name}: lost the connection to the master`);
      return EXIT.FAILED;
    }
    if (
      e instanceof ConfigError ||
      e instanceof MasterNotRunningError ||
      e instanceof ControlUnreachableError ||
      e instanceof ControlAuthError ||
      e instanceof ListenError ||
      e instanceof ControlSecretError ||
      e instanceof AlreadyRunningError ||
      e instanceof ApiClientError ||
      e instanceof DatabaseConnectError ||
      e instanceof UnsupportedDatabaseUrlError ||
      e instanceof CopyRefusedError
    ) {
      io.err(`lathe ${name}: ${e.message}`);
      return EXIT.FAILED;
    }
    io.err(`lathe ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT.FAILED;
  }
}

runWhenInvoked(/(?:[/\\]main\.js|[/\\]lathe(?:\.js)?)$/, main);
