// Exit codes, and what every command gets and shares; the usage error and reading seconds
// are @lathe/daemon's, shared with lathe-worker.
import { parseArgs } from 'node:util';
import { UsageError } from '@lathe/daemon';

export { seconds, UsageError } from '@lathe/daemon';

/** Exit codes of every `lathe` command. */
export const EXIT = {
  OK: 0,
  /** The command ran and something failed (a bad config, a failed build, a refused login). */
  FAILED: 1,
  /** The command was called wrongly (unknown option, missing argument). */
  USAGE: 2,
  /** `force` gave up waiting: the build request is still queued or running. */
  TIMEOUT: 3,
} as const;

/** What every command gets: where to print, so tests can capture it. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export type Command = {
  readonly help: string;
  readonly summary: string;
  run(argv: string[], io: Io): Promise<number>;
};

export function atMostOneDir(positionals: string[], help: string): string {
  if (positionals.length > 1)
    throw new UsageError(`takes at most one master directory, got ${positionals.length} arguments`, help);
  return positionals[0] ?? '.';
}

/** The arguments of a command whose only option is `-h/--help`; null once the help is printed. */
export function positionalsUnlessHelp(argv: string[], io: Io, help: string): string[] | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (!values.help) return positionals;
  io.out(help);
  return null;
}
