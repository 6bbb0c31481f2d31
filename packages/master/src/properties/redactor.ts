// Replaces the values of secrets that a build used with a mask, in whole texts or in a
// stream of output chunks. The stream form holds back the shortest tail of each chunk that
// could still grow into a secret, so a secret split across chunks is still caught, while
// ordinary output goes out at once. A secret is also hidden in the forms a worker or a tool
// echoes it in: shell-quoted (`'it'"'"'s'`, `pa\ ss`), inside a Python repr (`'it\'s'`,
// `\\`, `\n`) and inside a JSON string.

export const SECRET_MASK = '<secret>';

export class Redactor {
  readonly #secrets = new Map<string, string>();
  readonly #mask: string;
  #pattern: RegExp | undefined;
  #longest = 0;
  #sorted: readonly string[] = [];
  /** Bumped on every new secret so streams know to rebuild their view. */
  version = 0;

  constructor(options: { mask?: string } = {}) {
    this.#mask = options.mask ?? SECRET_MASK;
  }

  get mask(): string {
    return this.#mask;
  }

  /** Records a secret's value; empty values are ignored (they would match everywhere). */
  add(value: string, name = ''): void {
    if (!value || this.#secrets.has(value)) return;
    this.#secrets.set(value, name);
    for (const form of echoedForms(value)) if (!this.#secrets.has(form)) this.#secrets.set(form, name);
    // Also hide each line of a multi-line secret (a key file), since logs are shown by line.
    for (const line of value.split(/\r?\n/)) {
      if (line.trim().length >= 4 && !this.#secrets.has(line)) this.#secrets.set(line, name);
    }
    // Longest first, so a secret that contains another is hidden whole.
    const values = [...this.#secrets.keys()].sort((a, b) => b.length - a.length);
    this.#sorted = values;
    this.#pattern = new RegExp(values.map(escapeRegExp).join('|'), 'g');
    this.#longest = values[0]!.length;
    this.version++;
  }

  get size(): number {
    return this.#secrets.size;
  }

  /** Secret values, longest first. */
  values(): readonly string[] {
    return this.#sorted;
  }

  get longest(): number {
    return this.#longest;
  }

  /** The regular expression matching any secret (global), or undefined when none. */
  get pattern(): RegExp | undefined {
    return this.#pattern;
  }

  redact(text: string): string {
    if (!this.#pattern || !text) return text;
    return text.replace(this.#pattern, this.#mask);
  }

  /** Redacts every string inside arrays and plain objects (e.g. properties shown in the UI). */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value !== null && typeof value === 'object') {
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactValue(v)])) as T;
    }
    return value;
  }

  /** A redacting filter for one output stream. */
  stream(): StreamRedactor {
    return new StreamRedactor(this);
  }
}

export class StreamRedactor {
  readonly #redactor: Redactor;
  #carry = '';

  constructor(redactor: Redactor) {
    this.#redactor = redactor;
  }

  /** Returns the redacted text that is safe to emit now; may hold back a possible secret prefix. */
  push(chunk: string): string {
    const text = this.#carry + chunk;
    this.#carry = '';
    const pattern = this.#redactor.pattern;
    if (!pattern || !text) return text;
    const secrets = this.#redactor.values();
    const windowStart = Math.max(0, text.length - this.#redactor.longest + 1);
    let out = '';
    let pos = 0;
    for (;;) {
      const hold = holdStart(text, Math.max(pos, windowStart), secrets);
      pattern.lastIndex = pos;
      const m = pattern.exec(text);
      if (m && m.index < hold) {
        out += text.slice(pos, m.index) + this.#redactor.mask;
        pos = m.index + m[0].length;
        continue;
      }
      // Nothing before `hold` can become part of a secret any more.
      out += text.slice(pos, hold);
      this.#carry = text.slice(hold);
      return out;
    }
  }

  /** Ends the stream: redacts and returns whatever was held back. */
  flush(): string {
    const rest = this.#carry;
    this.#carry = '';
    return this.#redactor.redact(rest);
  }

  /** Characters currently held back (bounded by the longest secret). */
  get pending(): number {
    return this.#carry.length;
  }
}

/** The first index ≥ from where the rest of `text` is a proper prefix of some secret. */
function holdStart(text: string, from: number, secrets: readonly string[]): number {
  for (let i = from; i < text.length; i++) {
    const tailLength = text.length - i;
    for (const s of secrets) {
      if (s.length > tailLength && s.charCodeAt(0) === text.charCodeAt(i) && isPrefixAt(text, i, s)) return i;
    }
  }
  return text.length;
}

function isPrefixAt(text: string, at: number, secret: string): boolean {
  for (let j = at; j < text.length; j++) if (text.charCodeAt(j) !== secret.charCodeAt(j - at)) return false;
  return true;
}

/** Characters a shell word may hold without quoting (as Python's shlex.quote sees it). */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]$/;

/** The texts a value turns into when a shell, Python or JSON quotes it, minus the quotes. */
export function echoedForms(value: string): string[] {
  const forms = new Set<string>();
  // shlex.quote / pipes.quote: 'a'"'"'b' (the rest of the word is the value itself).
  forms.add(value.replaceAll("'", `'"'"'`));
  // Backslash-escaped words (printf %q, some tracing): pa\ ss.
  forms.add([...value].map((c) => (SHELL_SAFE.test(c) ? c : `\\${c}`)).join(''));
  // Python repr: '…' with \' inside, or "…" around a value with ' and no ".
  const repr = pythonReprBody(value);
  forms.add(repr);
  forms.add(repr.replaceAll("'", "\\'"));
  forms.add(JSON.stringify(value).slice(1, -1));
  forms.delete(value);
  forms.delete('');
  return [...forms];
}

/** What Python's repr() of a str puts between its quotes, before escaping the quote itself. */
function pythonReprBody(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
