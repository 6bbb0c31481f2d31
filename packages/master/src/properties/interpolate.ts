// Buildbot's Interpolate: `%(prop:name)s`-style format strings, parsed when the
// configuration is loaded (syntax errors surface then) and rendered per build. Also a
// tagged-template form whose `${…}` holes may hold any renderable.
//
//   %(prop:name)s            the property, '' when absent or null
//   %(src:codebase:attr)s    an attribute of a codebase's source stamp
//   %(worker:attr)s          an attribute of the worker's info
//   %(kw:name)s              a keyword argument given to interpolate()
//   %(secret:name)s          a secret (recorded for redaction)
//   …:-default               default when absent
//   …:~default               default when absent or false-ish ('' / 0 / false / null / [] / {})
//   …:+alternate             alternate when present, else ''
//   …:?|present|absent       chosen by presence (any delimiter instead of |)
//   …:#?|true|false          chosen by truthiness
// The default/alternate texts are themselves format strings. `%%` is a literal percent.
import { InterpolateSyntaxError, RenderError } from './errors.js';
import { isRenderable, RENDER, type Renderable, type RenderContext, render } from './renderable.js';

type Selector = 'prop' | 'src' | 'worker' | 'kw' | 'secret';
type Form = '-' | '~' | '+' | '?' | '#?';

interface Lookup {
  readonly selector: Selector;
  readonly codebase: string;
  readonly key: string;
  readonly form: Form;
  /** Default (-, ~), alternate (+) or the present/true branch (?, #?). */
  readonly first: Template;
  /** The absent/false branch of ?, #?. */
  readonly second: Template;
}

type Template = readonly (string | Lookup)[];

const IDENTIFIER = /^[\w.-]*$/;
const FORMS: readonly Form[] = ['-', '~', '+', '?', '#?'];

export type InterpolateKwargs = Readonly<Record<string, unknown>>;

class Interpolation implements Renderable<string> {
  constructor(
    private readonly template: Template,
    private readonly kwargs: InterpolateKwargs,
    readonly format: string,
  ) {}

  [RENDER](ctx: RenderContext): Promise<string> {
    return renderTemplate(this.template, this.kwargs, ctx);
  }

  toString(): string {
    return `Interpolate(${JSON.stringify(this.format)})`;
  }
}

class TemplateInterpolation implements Renderable<string> {
  constructor(
    private readonly strings: readonly string[],
    private readonly values: readonly unknown[],
  ) {}

  async [RENDER](ctx: RenderContext): Promise<string> {
    const rendered = await Promise.all(this.values.map((v) => render(v, ctx)));
    let out = this.strings[0] ?? '';
    for (let i = 0; i < rendered.length; i++) {
      out += substituted(rendered[i], ctx) + (this.strings[i + 1] ?? '');
    }
    return out;
  }
}

/**
 * `interpolate('%(prop:branch:-main)s', kwargs?)` or, as a tag,
 * interpolate`build ${prop('buildnumber')}` — both give a renderable string.
 */
export function interpolate(format: string, kwargs?: InterpolateKwargs): Renderable<string>;
export function interpolate(strings: TemplateStringsArray, ...values: unknown[]): Renderable<string>;
export function interpolate(first: string | TemplateStringsArray, ...rest: unknown[]): Renderable<string> {
  if (typeof first === 'string') {
    const kwargs = (rest[0] ?? {}) as InterpolateKwargs;
    return new Interpolation(parseTemplate(first, first), kwargs, first);
  }
  return new TemplateInterpolation([...first], rest);
}

/**
 * A property's value (not stringified), or `fallback` when absent — Buildbot's Property.
 * Property values are not typed at run time: `T` (inferred from `fallback`, or given, as in
 * `prop<number>('timeout')`) is the config's word for what the property holds, so the
 * result fits options of that type (`timeout: prop('timeout', 600)`).
 */
export function prop<T = unknown>(name: string, fallback?: T): Renderable<T> {
  return {
    [RENDER]: (ctx) =>
      (ctx.properties.hasProperty(name) ? (ctx.properties.getProperty(name) as T) : fallback) as T,
  };
}

/** A secret's value — Buildbot's Secret. */
export function secret(name: string): Renderable<string> {
  return { [RENDER]: (ctx) => lookupSecret(ctx, name) };
}

function lookupSecret(ctx: RenderContext, name: string): Promise<string> {
  if (!ctx.getSecret)
    throw new RenderError(`secret ${JSON.stringify(name)} used but no secrets are configured`);
  return ctx.getSecret(name);
}

// ---- parsing ----

function parseTemplate(text: string, whole: string): Template {
  const out: (string | Lookup)[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '%') {
      literal += '%';
      i += 2;
      continue;
    }
    if (next !== '(')
      throw new InterpolateSyntaxError(whole, `lone '%' at offset ${i} (write %% for a percent sign)`);
    const close = matchingParen(text, i + 1);
    if (close < 0) throw new InterpolateSyntaxError(whole, `unbalanced '(' at offset ${i + 1}`);
    if (text[close + 1] !== 's') {
      throw new InterpolateSyntaxError(whole, `only %(…)s conversions are supported, at offset ${i}`);
    }
    if (literal) out.push(literal);
    literal = '';
    out.push(parseLookup(text.slice(i + 2, close), whole));
    i = close + 2;
  }
  if (literal) out.push(literal);
  return out;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function parseLookup(key: string, whole: string): Lookup {
  const [selector, arg] = splitOnce(key, ':');
  if (arg === undefined) throw new InterpolateSyntaxError(whole, `substitution '${key}' has no selector`);
  let codebase = '';
  let name: string;
  let repl: string | undefined;
  switch (selector) {
    case 'prop':
    case 'kw':
      [name, repl] = splitOnce(arg, ':');
      if (!IDENTIFIER.test(name))
        throw new InterpolateSyntaxError(whole, `'${name}' is not a valid ${selector} name`);
      break;
    case 'worker':
    case 'secret':
      [name, repl] = splitOnce(arg, ':');
      break;
    case 'src': {
      const [cb, rest] = splitOnce(arg, ':');
      if (rest === undefined)
        throw new InterpolateSyntaxError(whole, `src needs codebase and attribute in '${key}'`);
      [name, repl] = splitOnce(rest, ':');
      if (!IDENTIFIER.test(cb) || !IDENTIFIER.test(name)) {
        throw new InterpolateSyntaxError(whole, `invalid codebase or attribute in '${key}'`);
      }
      codebase = cb;
      break;
    }
    default:
      throw new InterpolateSyntaxError(whole, `unknown selector '${selector}'`);
  }
  const r = repl ?? '-';
  const form = FORMS.find((f) => r.startsWith(f));
  if (!form) throw new InterpolateSyntaxError(whole, `invalid default type '${r[0]}' in '${key}'`);
  const tail = r.slice(form.length);
  if (form === '?' || form === '#?') {
    const delim = tail[0];
    if (delim === undefined || delim === '(') {
      throw new InterpolateSyntaxError(whole, `invalid ternary delimiter in '${key}'`);
    }
    const split = splitBalanced(tail.slice(1), delim);
    if (!split)
      throw new InterpolateSyntaxError(whole, `ternary '${tail}' needs two parts separated by '${delim}'`);
    return {
      selector,
      codebase,
      key: name,
      form,
      first: parseTemplate(split[0], whole),
      second: parseTemplate(split[1], whole),
    };
  }
  return { selector, codebase, key: name, form, first: parseTemplate(tail, whole), second: [] };
}

/** Splits at the first delimiter outside parentheses, so nested %(…)s may contain it. */
function splitBalanced(s: string, delim: string): [string, string] | undefined {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return undefined;
    if (depth === 0 && c === delim) {
      return [s.slice(0, i), s.slice(i + 1)];
    }
  }
  return undefined;
}

// ---- rendering ----

async function renderTemplate(t: Template, kwargs: InterpolateKwargs, ctx: RenderContext): Promise<string> {
  const parts = await Promise.all(
    t.map((n) => (typeof n === 'string' ? n : renderLookup(n, kwargs, ctx).then(formatValue))),
  );
  return parts.join('');
}

async function find(
  l: Lookup,
  kwargs: InterpolateKwargs,
  ctx: RenderContext,
): Promise<{ present: boolean; value?: unknown }> {
  switch (l.selector) {
    case 'prop':
      return ctx.properties.hasProperty(l.key)
        ? { present: true, value: ctx.properties.getProperty(l.key) }
        : { present: false };
    case 'secret':
      return { present: true, value: await lookupSecret(ctx, l.key) };
    case 'kw':
      return fromRecord(kwargs, l.key);
    case 'worker':
      return fromRecord(ctx.workerInfo ?? {}, l.key);
    case 'src':
      return fromRecord(ctx.sourceStamp?.(l.codebase) ?? {}, l.key);
  }
}

function fromRecord(
  r: Readonly<Record<string, unknown>>,
  key: string,
): { present: boolean; value?: unknown } {
  return Object.hasOwn(r, key) ? { present: true, value: r[key] } : { present: false };
}

async function renderLookup(l: Lookup, kwargs: InterpolateKwargs, ctx: RenderContext): Promise<unknown> {
  const { present, value } = await find(l, kwargs, ctx);
  const branch = (t: Template) => renderTemplate(t, kwargs, ctx);
  let out: unknown;
  switch (l.form) {
    case '-':
      out = present ? substituted(await render(value, ctx), ctx) : await branch(l.first);
      break;
    case '~': {
      const v = present ? await render(value, ctx) : undefined;
      out = present && truthy(v) ? substituted(v, ctx) : await branch(l.first);
      break;
    }
    case '+':
      out = present ? await branch(l.first) : '';
      break;
    case '?':
      out = present ? await branch(l.first) : await branch(l.second);
      break;
    case '#?': {
      const v = present ? await render(value, ctx) : undefined;
      out = present && truthy(v) ? await branch(l.first) : await branch(l.second);
      break;
    }
  }
  return out ?? '';
}

/** A looked-up value as it goes into the text, through the context's `quote` if any. */
function substituted(v: unknown, ctx: RenderContext): string {
  const text = formatValue(v);
  return ctx.quote ? ctx.quote(text) : text;
}

/** Python's truthiness, which Buildbot configurations rely on for `:~` and `:#?`. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !isRenderable(v)) return Object.keys(v).length > 0;
  return true;
}

/** How a rendered value appears inside a string: strings verbatim, objects as JSON. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
