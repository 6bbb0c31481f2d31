/**
 * Turns what the master stored about a run into a JSON document that does not depend
 * on the run (temp paths, times, host name) nor on which worker served it, and
 * compares two such documents.
 */

/** Result codes as stored in the `results` columns (buildbot.process.results). */
export const RESULT_NAMES = ['SUCCESS', 'WARNINGS', 'FAILURE', 'SKIPPED', 'EXCEPTION', 'RETRY', 'CANCELLED'];

export function resultName(code: number | null | undefined): string {
  if (code === null || code === undefined) return 'NONE';
  return RESULT_NAMES[code] ?? `RESULT_${code}`;
}

/** Rows as dbdump.py prints them. */
export interface RawLog {
  id: number;
  name: string;
  slug: string;
  /** 's' stream (stdio-like, one channel letter per line), 't' text, 'h' html */
  type: string;
  num_lines: number;
  complete: number;
  /** null when dbdump was asked to skip big logs (then `stats` is set) */
  text: string | null;
  stats?: { bytes: number; lines: number; channelBytes: Record<string, number> | null };
}

export interface RawStep {
  id: number;
  number: number;
  name: string;
  results: number | null;
  state_string: string;
  started_at: number | null;
  complete_at: number | null;
  hidden: number;
  logs: RawLog[];
}

export interface RawBuild {
  id: number;
  number: number;
  builder: string;
  results: number | null;
  state_string: string;
  started_at: number;
  complete_at: number | null;
  steps?: RawStep[];
}

export interface NormLog {
  type: 'stream' | 'text' | 'html';
  /** stream logs: the lines of each channel, in order, each ending in '\n' */
  header?: string;
  stdout?: string;
  stderr?: string;
  /** text and html logs */
  text?: string;
}

export interface NormStep {
  result: string;
  stateString: string;
  logs: Record<string, NormLog>;
}

export interface NormBuild {
  result: string;
  stateString: string;
  /** step name → step, in step order */
  steps: Record<string, NormStep>;
}

export interface FileInfo {
  size: number;
  sha256: string;
  /** permission bits, octal text */
  mode: string;
  /** only for files whose timestamp the transfer must preserve */
  mtime?: string;
}

/** The normalised outcome of one harness run. */
export interface RunResult {
  /** which worker served the run; ignored by compareRuns */
  worker: string;
  /** builder name → its (single) build */
  builders: Record<string, NormBuild>;
  /** files under the master's uploads/ directory, path → info */
  masterFiles: Record<string, FileInfo>;
  /** facts the harness established itself */
  checks: Record<string, unknown>;
  /** durations in seconds; ignored by compareRuns */
  timings: Record<string, number>;
}

export type Normaliser = (text: string) => string;

/**
 * `replacements` maps run-specific strings (paths, host name, run id) to placeholders;
 * longer strings are replaced first. Then times and elapsed figures are masked.
 */
export function makeNormaliser(replacements: Record<string, string>): Normaliser {
  const pairs = Object.entries(replacements)
    .filter(([from]) => from.length > 0)
    .sort((a, b) => b[0].length - a[0].length);
  return (text) => {
    let out = text;
    for (const [from, to] of pairs) out = out.split(from).join(to);
    return out
      .replace(/elapsedTime=[0-9.e+-]+/g, 'elapsedTime=<ELAPSED>')
      .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?/g, '<TIMESTAMP>');
  };
}

function splitStream(text: string): Pick<NormLog, 'header' | 'stdout' | 'stderr'> {
  const channels: Record<string, string[]> = { h: [], o: [], e: [] };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    // Buildbot's channels: o stdout, e stderr, h header
    (channels[line[0] ?? 'o'] ?? channels.o!).push(`${line.slice(1)}\n`);
  }
  return {
    header: channels.h!.join(''),
    stdout: channels.o!.join(''),
    stderr: channels.e!.join(''),
  };
}

export function normaliseLog(log: RawLog, norm: Normaliser): NormLog {
  if (log.text === null) return { type: 'text', text: `<not read: ${JSON.stringify(log.stats)}>` };
  if (log.type === 's') {
    const parts = splitStream(log.text);
    return {
      type: 'stream',
      header: norm(parts.header ?? ''),
      stdout: norm(parts.stdout ?? ''),
      stderr: norm(parts.stderr ?? ''),
    };
  }
  return { type: log.type === 'h' ? 'html' : 'text', text: norm(log.text) };
}

export function normaliseBuild(build: RawBuild, norm: Normaliser): NormBuild {
  const steps: Record<string, NormStep> = {};
  for (const step of build.steps ?? []) {
    const logs: Record<string, NormLog> = {};
    for (const log of step.logs) logs[log.name] = normaliseLog(log, norm);
    steps[step.name] = { result: resultName(step.results), stateString: norm(step.state_string), logs };
  }
  return { result: resultName(build.results), stateString: norm(build.state_string), steps };
}

/** The differences between two values, as "path: a … / b …" lines. */
function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (a === b) return;
  if (typeof a === 'string' && typeof b === 'string' && (a.includes('\n') || b.includes('\n'))) {
    const al = a.split('\n');
    const bl = b.split('\n');
    let i = 0;
    while (i < al.length && i < bl.length && al[i] === bl[i]) i++;
    out.push(
      `${path}: differ at line ${i + 1} (${al.length} vs ${bl.length} lines): ` +
        `${JSON.stringify(al[i] ?? '<end>')} vs ${JSON.stringify(bl[i] ?? '<end>')}`,
    );
    return;
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const ak = Object.keys(a);
    const bk = Object.keys(b);
    for (const k of ak) {
      if (!(k in b)) out.push(`${path}.${k}: only in the first run`);
      else diff(a[k], b[k], `${path}.${k}`, out);
    }
    for (const k of bk) if (!(k in a)) out.push(`${path}.${k}: only in the second run`);
    // same keys in a different order: step order matters
    const common = ak.filter((k) => k in b);
    const commonB = bk.filter((k) => k in a);
    if (!Array.isArray(a) && common.join('\0') !== commonB.join('\0')) {
      out.push(`${path}: keys in a different order: ${common.join(', ')} vs ${commonB.join(', ')}`);
    }
    return;
  }
  out.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
}

export interface CompareOptions {
  /** Paths (as reported, e.g. `builders.git.steps.make.logs.stdio.header`) to skip. */
  ignore?: (path: string) => boolean;
}

/**
 * Compares two normalised runs (typically the stock buildbot-worker's and Lathe's):
 * build and step results, state strings, every log channel, the files that reached
 * the master and the harness's own checks. `worker` and `timings` are not compared.
 * Returns the list of differences; empty means the runs are equivalent.
 */
export function compareRuns(a: RunResult, b: RunResult, opts: CompareOptions = {}): string[] {
  const out: string[] = [];
  diff(a.builders, b.builders, 'builders', out);
  diff(a.masterFiles, b.masterFiles, 'masterFiles', out);
  diff(a.checks, b.checks, 'checks', out);
  const ignore = opts.ignore;
  return ignore ? out.filter((line) => !ignore(line.slice(0, line.indexOf(':')))) : out;
}
