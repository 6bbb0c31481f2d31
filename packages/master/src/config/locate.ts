// Finds the line a validation issue refers to. Exact when the entry came from
// defineWorker/defineBuilder (they record their call site); otherwise a search of the
// config's source for the entry's quoted name and then the offending field — right for
// configs written as literals, which is nearly all of them.
import { definedAt } from './define.js';
import type { SourceLocation } from './types.js';

const FIELD_SEARCH_LINES = 40;

export class SourceLocator {
  readonly #lines: readonly string[];

  constructor(
    readonly file: string,
    text: string | undefined,
  ) {
    this.#lines = text?.split('\n') ?? [];
  }

  /** The line of `field` within the entry `entry` (named `name`), or of the entry itself. */
  locate(entry: unknown, name: string | undefined, field?: string, occurrence = 0): SourceLocation {
    const recorded = definedAt(entry);
    let base: number | undefined;
    if (recorded && recorded.file === this.file) base = recorded.line;
    else if (recorded) return recorded;
    base ??= name === undefined ? undefined : this.#findName(name, occurrence);
    if (base === undefined) {
      if (field !== undefined) {
        const anywhere = this.#findField(field, 1, this.#lines.length);
        if (anywhere !== undefined) return { file: this.file, line: anywhere };
      }
      return { file: this.file, line: 1 };
    }
    if (field !== undefined) {
      const line = this.#findField(field, base, FIELD_SEARCH_LINES);
      if (line !== undefined) return { file: this.file, line };
    }
    return { file: this.file, line: base };
  }

  /** The line of a top-level setting such as `workerPort`. */
  locateSetting(field: string): SourceLocation {
    return { file: this.file, line: this.#findField(field, 1, this.#lines.length) ?? 1 };
  }

  /**
   * The line of the `occurrence`-th `field:` (0 = first) after the top-level `setting`, for
   * entries that carry no name of their own to search for (a reporters entry's `reporter:`).
   */
  locateNthField(setting: string, field: string, occurrence: number): SourceLocation | undefined {
    const from = this.#findField(setting, 1, this.#lines.length) ?? 1;
    let seen = 0;
    for (let line = from; line <= this.#lines.length; line++) {
      const found = this.#findField(field, line, 1);
      if (found !== undefined && seen++ === occurrence) return { file: this.file, line: found };
    }
    return undefined;
  }

  /** The line defining the `occurrence`-th entry called `name` (0 = first). */
  #findName(name: string, occurrence: number): number | undefined {
    const quoted = [`'${name}'`, `"${name}"`, `\`${name}\``];
    const definitions: number[] = [];
    let fallback: number | undefined;
    for (let i = 0; i < this.#lines.length; i++) {
      const l = this.#lines[i]!;
      if (!quoted.some((q) => l.includes(q))) continue;
      if (/\bname\s*:/.test(l)) definitions.push(i + 1);
      fallback ??= i + 1;
    }
    return definitions[Math.min(occurrence, definitions.length - 1)] ?? fallback;
  }

  #findField(field: string, fromLine: number, span: number): number | undefined {
    const re = new RegExp(`(^|[\\s{,])${field}\\s*[:(]|^\\s*${field}\\s*,?\\s*$`);
    const end = Math.min(this.#lines.length, fromLine - 1 + span);
    for (let i = fromLine - 1; i < end; i++) if (re.test(this.#lines[i]!)) return i + 1;
    return undefined;
  }
}
