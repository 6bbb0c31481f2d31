/**
 * The commands this worker implements, under the names Buildbot masters use
 * (camelCase for PB, snake_case aliases for the msgpack protocol), and the
 * checks Buildbot makes before a command starts.
 */
import { MissingArgsError, UnknownCommandError } from '../protocol/failure.js';
import { decodeArgs, isPlainObject } from '../protocol/values.js';
import type { Command, CommandArgs, CommandContext } from './command.js';
import { CpdirCommand } from './cpdir.js';
import { DownloadFileCommand } from './download-file.js';
import { GlobCommand } from './glob.js';
import { ListdirCommand } from './listdir.js';
import { MkdirCommand } from './mkdir.js';
import { RmdirCommand } from './rmdir.js';
import { RmfileCommand } from './rmfile.js';
import { ShellCommand } from './shell.js';
import { StatCommand } from './stat.js';
import { UploadDirectoryCommand } from './upload-directory.js';
import { UploadFileCommand } from './upload-file.js';

/** Version advertised for every command: buildbot-worker 3.7's, which masters compare against. */
export const COMMAND_VERSION = '3.1';

interface CommandClass {
  new (context: CommandContext, args: CommandArgs): Command;
  readonly requiredArgs: readonly string[];
}

const commands: Record<string, CommandClass> = {
  shell: ShellCommand,
  uploadFile: UploadFileCommand,
  upload_file: UploadFileCommand,
  uploadDirectory: UploadDirectoryCommand,
  upload_directory: UploadDirectoryCommand,
  downloadFile: DownloadFileCommand,
  download_file: DownloadFileCommand,
  mkdir: MkdirCommand,
  rmdir: RmdirCommand,
  cpdir: CpdirCommand,
  stat: StatCommand,
  glob: GlobCommand,
  listdir: ListdirCommand,
  rmfile: RmfileCommand,
};

/** Masters older than Buildbot 3.0 use the old names of these arguments. */
const renamedArgs: Record<string, string> = { slavesrc: 'workersrc', slavedest: 'workerdest' };

/** `worker_commands` of the worker info: name → version. */
export function commandVersions(): Record<string, string> {
  return Object.fromEntries(Object.keys(commands).map((name) => [name, COMMAND_VERSION]));
}

/**
 * Creates the command for a `startCommand` call. Throws UnknownCommandError or
 * MissingArgsError, which become the error answer to `startCommand`.
 */
export function createCommand(name: string, rawArgs: unknown, context: CommandContext): Command {
  const Class = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!Class) throw new UnknownCommandError(name);
  const decoded = decodeArgs(rawArgs);
  const args: CommandArgs = isPlainObject(decoded) ? { ...decoded } : {};
  for (const [old, current] of Object.entries(renamedArgs)) {
    if (old in args && args[current] === undefined) args[current] = args[old];
  }
  const missing = Class.requiredArgs.filter((key) => !(key in args));
  if (missing.length > 0) throw new MissingArgsError(name, missing);
  return new Class(context, args);
}
