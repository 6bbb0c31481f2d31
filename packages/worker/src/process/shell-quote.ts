/**
 * Quotes an argv for display the way buildbot-worker does on POSIX (Python's
 * `shlex.quote`, with '' shown as ""), so headers read the same as with a
 * Python worker and can be pasted into a shell.
 */
const safe = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuoteArg(arg: string): string {
  if (arg === '') return '""';
  if (safe.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

export function shellQuote(argv: readonly string[]): string {
  return argv.map(shellQuoteArg).join(' ');
}
