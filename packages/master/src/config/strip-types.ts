// Strips the TypeScript types of config files in a short-lived child process.
//
// Node can import `.ts` itself, but the first use loads its TypeScript parser (a WebAssembly
// build of swc) into the process for good: about 18 MB of resident memory in a master that
// otherwise idles near 75 MB. A master loads its config once at start and again per
// reconfig, so paying ~60 ms for a `node` child per config file is the better trade. Only
// whitespace replaces the types ("strip" mode), so line and column numbers — in stack
// traces and in the file:line of config errors — are those of the file as written.
//
// Used by the loader's load hook; when the child cannot run at all, the loader falls back
// to Node's in-process stripping (correct, just heavier).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./strip-types-child.js', import.meta.url));
/** Generous: the child is a cold Node start on a possibly loaded machine. */
const CHILD_TIMEOUT_MS = 60_000;

/** What the child prints: the stripped code, or the parse error with its line. */
export type StripReply =
  | { readonly ok: true; readonly code: string }
  | { readonly ok: false; readonly code?: string; readonly message: string; readonly line?: number };

/**
 * The types of `source` stripped, or the TypeScript syntax error as a SyntaxError whose stack
 * starts with `url:line` — the form Node's own stripper gives and the loader reads.
 * Returns undefined when the child process could not be run.
 */
export function stripTypesOutOfProcess(source: string, url: string): string | undefined {
  const child = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD], {
    input: source,
    encoding: 'utf8',
    maxBuffer: 4 * source.length + 1024 * 1024,
    timeout: CHILD_TIMEOUT_MS,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.error || child.status !== 0) return undefined;
  let reply: StripReply;
  try {
    reply = JSON.parse(child.stdout) as StripReply;
  } catch {
    return undefined;
  }
  if (reply.ok) return reply.code;
  const err = new SyntaxError(reply.message) as SyntaxError & { code?: string };
  if (reply.code !== undefined) err.code = reply.code;
  err.stack = `${url}:${reply.line ?? 1}\n${err.name}: ${reply.message}`;
  throw err;
}
