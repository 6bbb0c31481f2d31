// Runs master.config.ts in this process: a dynamic import() — its TypeScript types stripped
// in a child process (strip-types.ts says why) — then, when the default export is a
// function, its call, then validation. Every way that can fail becomes a ConfigError that
// says where: syntax errors and exceptions thrown while the config runs (with the line from
// the stack), missing imports (with the line of the import), validation problems (with the
// entry's line). The loader (loader.ts) runs this twice: first in an isolated child
// (isolated-evaluation.ts), then here.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFrame, toPath } from './define.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { stripTypesOutOfProcess } from './strip-types.js';
import type { ResolvedConfig, SourceLocation } from './types.js';
import { validateConfig } from './validate.js';

const GEN_PARAM = 'lathe-config';
let generation = 0;
let hooksInstalled = false;
/** Directories of loaded configs: only files under them are re-read on reload. */
const configRoots = new Set<string>();

/**
 * Every load imports the config under a fresh `?lathe-config=N` URL so it really runs again.
 * The resolve hook passes that marker on to the files the config imports from its own
 * directory tree (not to packages in node_modules, nor to Lathe itself), so helper files
 * are re-read too while shared modules keep their single instance.
 */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      const gen = context.parentURL ? new URL(context.parentURL).searchParams.get(GEN_PARAM) : null;
      if (gen === null || !result.url.startsWith('file:') || result.url.includes('/node_modules/'))
        return result;
      const url = new URL(result.url);
      const path = toPath(result.url);
      if (![...configRoots].some((root) => path.startsWith(`${root}${sep}`))) return result;
      if (url.searchParams.has(GEN_PARAM)) return result;
      url.searchParams.set(GEN_PARAM, gen);
      return { ...result, url: url.href };
    },
    load(url, context, nextLoad) {
      // Read here rather than through nextLoad: Node's own loader already runs its
      // TypeScript parser on a .ts file just to tell ESM from CommonJS. Config files are
      // ES modules (they `export default`), so .ts and .mts load as such; .cts stays Node's.
      if (!/^file:[^?#]*\.m?ts(?:[?#]|$)/.test(url) || url.includes('/node_modules/')) {
        return nextLoad(url, context);
      }
      const path = toPath(url);
      const code = stripTypesOutOfProcess(readFileSync(path, 'utf8'), pathToFileURL(path).href);
      if (code === undefined) return nextLoad(url, context);
      return { format: 'module', source: code, shortCircuit: true };
    },
  });
}

/** Imports, runs and validates the config whose text is `source`. */
export async function importConfig(file: string, source: string): Promise<ResolvedConfig> {
  installHooks();
  configRoots.add(dirname(file));
  const url = pathToFileURL(file);
  url.searchParams.set(GEN_PARAM, String(++generation));
  let mod: { default?: unknown };
  try {
    mod = (await import(url.href)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError(file, [importIssue(err, file, source)], { cause: err });
  }
  let raw = mod.default;
  if (typeof raw === 'function') {
    // A config may export a (possibly async) function, e.g. to read secrets at load time.
    try {
      raw = await (raw as () => unknown)();
    } catch (err) {
      throw new ConfigError(file, [runtimeIssue(err, file)], { cause: err });
    }
  }
  if (raw === undefined) {
    throw new ConfigError(file, [
      { path: '', message: 'has no default export (export default defineConfig({...}))' },
    ]);
  }
  return validateConfig(raw, file, source);
}

function importIssue(err: unknown, file: string, source: string): ConfigIssue {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'ERR_UNSUPPORTED_DIR_IMPORT') {
    const m = /Cannot find (?:module|package) '([^']+)'/.exec(e.message);
    const missing = m?.[1] ?? '';
    const base = missing.split('/').pop() ?? missing;
    const lines = source.split('\n');
    const idx = base === '' ? -1 : lines.findIndex((l) => /\bimport\b|\bfrom\b/.test(l) && l.includes(base));
    return {
      path: '',
      message: `imports ${JSON.stringify(missing)}, which cannot be found`,
      location: { file, line: idx >= 0 ? idx + 1 : 1 },
    };
  }
  if (err instanceof SyntaxError) {
    // V8 and Node's TypeScript stripper put "path:line" on the first line of the stack.
    const first = err.stack?.split('\n')[0] ?? '';
    const m = /^(.*?):(\d+)$/.exec(first.trim());
    if (m) {
      return {
        path: '',
        message: `syntax error: ${err.message}`,
        location: { file: toPath(m[1]!), line: Number(m[2]) },
      };
    }
  }
  return runtimeIssue(err, file);
}

/** Points at the innermost stack frame inside the config (or a file it imported). */
export function runtimeIssue(err: unknown, file: string): ConfigIssue {
  const e = err instanceof Error ? err : new Error(String(err));
  const configDir = dirname(file);
  let location: SourceLocation | undefined;
  for (const frame of e.stack?.split('\n').slice(1) ?? []) {
    const loc = parseFrame(frame);
    if (loc && (frame.includes(`${GEN_PARAM}=`) || loc.file === file) && loc.file.startsWith(configDir)) {
      location = loc;
      break;
    }
  }
  const prefix = err instanceof Error ? `${e.name}: ` : 'threw ';
  return { path: '', message: `${prefix}${e.message}`, location: location ?? { file, line: 1 } };
}
