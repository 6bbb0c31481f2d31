// What the daemons' command lines share: the usage error, reading seconds from an option,
// and starting `main` when the script is run as a command.

/** A mistake in how a command was called: shown with the relevant help, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}

/** A non-negative number of seconds from an option, `fallback` when absent, or a UsageError naming the option. */
export function seconds(value: string | undefined, fallback: number, option: string, help: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`${option} needs a number of seconds, got ${JSON.stringify(value)}`, help);
  return n;
}

/**
 * Runs `main` with the command line's arguments when this process was started as the
 * script `script` matches (`process.argv[1]`), not when the module is imported; its answer
 * becomes the exit code, and an error that escapes it is printed with exit code 1.
 */
export function runWhenInvoked(script: RegExp, main: (argv: string[]) => Promise<number>): void {
  if (process.argv[1] === undefined || !script.test(process.argv[1])) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
