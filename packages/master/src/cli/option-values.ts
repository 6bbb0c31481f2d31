// Option values that several `lathe` commands parse the same way.
import { UsageError } from './usage.js';

/** `--master host:port`, as `buildbot sendchange` and `buildbot try` take it. */
export function masterHostPort(master: string, help: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(master);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port > 0 && port <= 65535))
    throw new UsageError(`--master must be host:port, got ${JSON.stringify(master)}`, help);
  return { host: m[1]!, port };
}

/**
 * Repeated `--property` options: `name:value` for sendchange, `name=value` for try (each as
 * its Buildbot counterpart spells it).
 */
export function propertyOptions(
  list: readonly string[],
  separator: ':' | '=',
  help: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const at = p.indexOf(separator);
    if (at <= 0)
      throw new UsageError(`--property needs name${separator}value, got ${JSON.stringify(p)}`, help);
    out[p.slice(0, at)] = p.slice(at + 1);
  }
  return out;
}
