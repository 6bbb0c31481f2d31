// Exit codes and the error for a mistake in how a command was called.

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

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}

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

/** A positive number of seconds from an option, or a UsageError naming the option. */
export function seconds(value: string | undefined, fallback: number, option: string, help: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`${option} needs a number of seconds, got ${JSON.stringify(value)}`, help);
  return n;
}

export function atMostOneDir(positionals: string[], help: string): string {
  if (positionals.length > 1)
    throw new UsageError(`takes at most one master directory, got ${positionals.length} arguments`, help);
  return positionals[0] ?? '.';
}
