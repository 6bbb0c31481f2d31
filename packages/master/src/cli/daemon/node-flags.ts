// The Node.js flags a master process runs with, applied by the `lathe` launcher itself so
// that every way of starting a master gets them: the background daemon is spawned with
// them, and `lathe start --nodaemon` re-executes itself with them (same pid, same stdio —
// what systemd and containers expect) when they are missing.
//
// Why (bench/master, "logs", has the figures):
// - --max-semi-space-size=1: a master's garbage is short-lived — PB frames, log lines on
//   their way to the database. V8's default young generation (up to 16 MB per semi-space)
//   lets tens of MB of it pile up between collections; 1 MB semi-spaces keep the master
//   streaming 100 MB of build output ~20 MB lower, and no slower.
// - --expose-gc: compressing log chunks leaves native memory V8 does not weigh when it
//   schedules collections; the log store asks for one every few MB (data/log-chunks.ts).

/** Flags for the master's Node.js process. */
export const MASTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

/** Set to 1 to run `lathe start --nodaemon` with exactly the flags it was given. */
export const NO_REEXEC_ENV = 'LATHE_NO_REEXEC';

/** The flags in MASTER_NODE_FLAGS whose option is not already set (the user's choice wins). */
export function missingMasterFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map(optionName);
  return MASTER_NODE_FLAGS.filter((flag) => !given.includes(optionName(flag)));
}

/** `--max-semi-space-size=1` → `--max-semi-space-size`; V8 accepts `_` for `-`. */
function optionName(flag: string): string {
  return flag.split('=')[0]!.replaceAll('_', '-');
}

/**
 * Replaces this process with the same command line plus the missing master flags. Returns
 * (doing nothing) when none are missing, when disabled by LATHE_NO_REEXEC=1, or on a Node.js
 * without process.execve (before 22.15): the master then runs with Node's defaults.
 */
export function reexecWithMasterFlags(): void {
  const missing = missingMasterFlags();
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve;
  if (missing.length === 0 || process.env[NO_REEXEC_ENV] === '1' || typeof execve !== 'function') return;
  execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
  });
}
