// Counts compiler warnings in a step's output, as Buildbot's Compile step does: a line is a
// warning when the warning pattern matches at its start; suppressions drop known warnings by
// file, text and line range; GNU Make's "Entering directory" lines give file names their
// directory. Only the first `maxRecorded` warning lines are kept (memory is bounded).
// Patterns given as text are Python regular expressions, as in Buildbot (python-regex.ts);
// a RegExp object is used as it is.
import { FAILURE, type Result, SUCCESS, WARNINGS, worstResult } from '../results.js';
import { stripAnsi } from './lines.js';
import { pythonRegExp } from './python-regex.js';

export interface WarningSuppression {
  /** Matched from the start of the warning's file path (with directory); absent = any file. */
  readonly file?: RegExp | string;
  /** Searched in the warning's text; absent = any warning. */
  readonly warning?: RegExp | string;
  /** Inclusive line range; both must be given for the range to apply. */
  readonly start?: number;
  readonly end?: number;
}

export interface ExtractedWarning {
  readonly file?: string;
  readonly line?: number;
  readonly text: string;
}

export interface WarningCounterOptions {
  /** Default `(?i).*warning[: ].*` (Buildbot's). Matched at the start of each line. */
  readonly pattern?: RegExp | string;
  /**
   * How to find the file, line and text of a warning for suppressions: 'wholeLine' (no file
   * or line, the default) or 'regexpGroups' (groups 1, 2, 3 of the pattern), or a function.
   */
  readonly extract?:
    | 'wholeLine'
    | 'regexpGroups'
    | ((line: string, match: RegExpExecArray) => ExtractedWarning);
  readonly suppressions?: readonly WarningSuppression[];
  readonly directoryEnterPattern?: RegExp | string | null;
  readonly directoryLeavePattern?: RegExp | string | null;
  /** More warnings than this fail the step. */
  readonly maxWarnCount?: number;
  /** Warning lines kept for the "warnings" log (default 1000). */
  readonly maxRecorded?: number;
}

export interface WarningReport {
  readonly count: number;
  readonly warnings: readonly string[];
  readonly truncated: boolean;
}

export const DEFAULT_WARNING_PATTERN = pythonRegExp('(?i).*warning[: ].*');
const MAKE_ENTER = pythonRegExp('make.*: Entering directory [\u2019"`\'](.*)[\u2019\'`"]');
const MAKE_LEAVE = pythonRegExp('make.*: Leaving directory');

interface CompiledSuppression {
  file: RegExp | undefined;
  warning: RegExp | undefined;
  start: number | undefined;
  end: number | undefined;
}

function toRegExp(r: RegExp | string): RegExp {
  return typeof r === 'string' ? pythonRegExp(r) : r;
}

/** Anchors a pattern at the start of the text, like Python's re.match. */
function anchored(r: RegExp | string): RegExp {
  const re = toRegExp(r);
  return new RegExp(`^(?:${re.source})`, re.flags.replace(/[gy]/g, ''));
}

export class WarningCounter {
  readonly #pattern: RegExp;
  readonly #extract: (line: string, match: RegExpExecArray) => ExtractedWarning;
  readonly #suppressions: CompiledSuppression[] = [];
  readonly #enter: RegExp | undefined;
  readonly #leave: RegExp | undefined;
  readonly #directories: string[] = [];
  readonly #maxRecorded: number;
  readonly maxWarnCount: number | undefined;
  #count = 0;
  readonly #recorded: string[] = [];

  constructor(options: WarningCounterOptions = {}) {
    this.#pattern = anchored(options.pattern ?? DEFAULT_WARNING_PATTERN);
    const ex = options.extract ?? 'wholeLine';
    this.#extract =
      ex === 'wholeLine'
        ? (line) => ({ text: line })
        : ex === 'regexpGroups'
          ? (_line, m) => ({
              ...(m[1] ? { file: m[1] } : {}),
              ...(m[2] ? { line: Number(m[2]) } : {}),
              text: m[3] ?? '',
            })
          : ex;
    this.addSuppressions(options.suppressions ?? []);
    const enter = options.directoryEnterPattern === undefined ? MAKE_ENTER : options.directoryEnterPattern;
    const leave = options.directoryLeavePattern === undefined ? MAKE_LEAVE : options.directoryLeavePattern;
    this.#enter = enter === null ? undefined : toRegExp(enter);
    this.#leave = leave === null ? undefined : toRegExp(leave);
    this.#maxRecorded = options.maxRecorded ?? 1000;
    this.maxWarnCount = options.maxWarnCount;
  }

  addSuppressions(list: readonly WarningSuppression[]): void {
    for (const s of list) {
      this.#suppressions.push({
        file: s.file === undefined ? undefined : anchored(s.file),
        warning: s.warning === undefined ? undefined : toRegExp(s.warning),
        start: s.start,
        end: s.end,
      });
    }
  }

  line(raw: string): void {
    const line = stripAnsi(raw);
    if (this.#enter) {
      const m = this.#enter.exec(line);
      if (m) {
        this.#directories.push(m[1] ?? '');
        return;
      }
    }
    if (this.#leave && this.#directories.length > 0 && this.#leave.test(line)) {
      this.#directories.pop();
      return;
    }
    const m = this.#pattern.exec(line);
    if (!m || this.#suppressed(line, m)) return;
    this.#count++;
    if (this.#recorded.length < this.#maxRecorded) this.#recorded.push(line);
  }

  #suppressed(line: string, m: RegExpExecArray): boolean {
    if (this.#suppressions.length === 0) return false;
    const w = this.#extract(line, m);
    let file = w.file;
    if (file && this.#directories.length > 0) file = `${this.#directories.join('/')}/${file}`;
    return this.#suppressions.some((s) => {
      if (file !== undefined && s.file && !s.file.test(file)) return false;
      if (s.warning && !s.warning.test(w.text)) return false;
      if (s.start !== undefined && s.end !== undefined) {
        if (w.line === undefined || w.line < s.start || w.line > s.end) return false;
      }
      return true;
    });
  }

  report(): WarningReport {
    return {
      count: this.#count,
      warnings: [...this.#recorded],
      truncated: this.#count > this.#recorded.length,
    };
  }

  /** The step's result given its command's: warnings warn, too many fail. */
  stepResult(commandResult: Result = SUCCESS): Result {
    if (this.maxWarnCount !== undefined && this.#count > this.maxWarnCount) {
      return worstResult(commandResult, FAILURE) ?? FAILURE;
    }
    if (this.#count > 0) return worstResult(commandResult, WARNINGS) ?? WARNINGS;
    return commandResult;
  }
}

const COMMENT_OR_EMPTY = /^\s*(#.*)?$/;
const SUPPRESSION_LINE = /^\s*(.+?)\s*:\s*(.+?)\s*(?:[:]\s*([0-9]+)(?:-([0-9]+))?\s*)?$/;

/**
 * Reads a suppression file in Buildbot's format, one `FILE-RE : WARNING-RE [: START[-END]]`
 * per line; `#` starts a comment.
 */
export function parseSuppressionFile(text: string): WarningSuppression[] {
  const out: WarningSuppression[] = [];
  for (const line of text.split('\n')) {
    if (COMMENT_OR_EMPTY.test(line)) continue;
    const m = SUPPRESSION_LINE.exec(line);
    if (!m) continue;
    const start = m[3] === undefined ? undefined : Number(m[3]);
    const end = m[4] === undefined ? start : Number(m[4]);
    out.push({
      file: m[1]!,
      warning: m[2]!,
      ...(start === undefined ? {} : { start, end: end! }),
    });
  }
  return out;
}
