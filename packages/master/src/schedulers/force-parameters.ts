// The typed parameters of a force scheduler (Buildbot's StringParameter, TextParameter,
// IntParameter, BooleanParameter, ChoiceStringParameter and NestedParameter): declared in
// master.config.ts, they say which build properties a forced build may be given and of
// what type. Values arrive typed (from an API) or as text (from `lathe force -p`); both are
// checked here and turned into properties. Every problem names its parameter.

interface ParameterBase {
  /** The property it sets; inside a nested group, the key in the group's object. */
  readonly name: string;
  /** What a form shows; default the name. */
  readonly label?: string;
  /** Refuse a force that leaves it out (or, for text, empty). */
  readonly required?: boolean;
}

export interface StringParameter extends ParameterBase {
  readonly type: 'string';
  readonly default?: string;
  /** The whole value must match. */
  readonly regex?: RegExp;
  readonly maxLength?: number;
}

/** Like a string, but may span lines. */
export interface TextParameter extends ParameterBase {
  readonly type: 'text';
  readonly default?: string;
  readonly regex?: RegExp;
  readonly maxLength?: number;
}

export interface IntParameter extends ParameterBase {
  readonly type: 'int';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}

export interface BooleanParameter extends ParameterBase {
  readonly type: 'boolean';
  readonly default?: boolean;
}

export interface ChoiceParameter extends ParameterBase {
  readonly type: 'choice';
  readonly choices: readonly string[];
  /** Default the first choice (none when `multiple`). */
  readonly default?: string | readonly string[];
  /** Several choices at once; the property is then a list. */
  readonly multiple?: boolean;
}

/** A group of parameters: its property is an object of theirs (spread out when the name is ''). */
export interface NestedParameter extends ParameterBase {
  readonly type: 'nested';
  readonly fields: readonly ForceParameter[];
}

export type ForceParameter =
  | StringParameter
  | TextParameter
  | IntParameter
  | BooleanParameter
  | ChoiceParameter
  | NestedParameter;

type Without<T> = Omit<T, 'type'>;
export const stringParameter = (p: Without<StringParameter>): StringParameter => ({ ...p, type: 'string' });
export const textParameter = (p: Without<TextParameter>): TextParameter => ({ ...p, type: 'text' });
export const intParameter = (p: Without<IntParameter>): IntParameter => ({ ...p, type: 'int' });
export const booleanParameter = (p: Without<BooleanParameter>): BooleanParameter => ({
  ...p,
  type: 'boolean',
});
export const choiceParameter = (p: Without<ChoiceParameter>): ChoiceParameter => ({ ...p, type: 'choice' });
export const nestedParameter = (p: Without<NestedParameter>): NestedParameter => ({ ...p, type: 'nested' });

export interface ParameterProblem {
  /** The parameter's path: `name`, or `group.name` inside a nested group. */
  readonly parameter: string;
  readonly message: string;
}

/** A force refused for its parameters; `problems` names each one. */
export class ForceParameterError extends Error {
  override readonly name = 'ForceParameterError';
  constructor(
    readonly scheduler: string,
    readonly problems: readonly ParameterProblem[],
  ) {
    super(
      `force scheduler ${JSON.stringify(scheduler)}: ${problems
        .map((p) => `parameter ${JSON.stringify(p.parameter)} ${p.message}`)
        .join('; ')}`,
    );
  }
}

/** Problems of the declarations themselves (config validation), each with its path. */
export function checkParameterDeclarations(params: unknown, prefix = ''): ParameterProblem[] {
  if (!Array.isArray(params)) return [{ parameter: prefix || 'parameters', message: 'must be a list' }];
  const problems: ParameterProblem[] = [];
  const names = new Set<string>();
  params.forEach((p: unknown, i) => {
    const rec = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    const name = typeof rec.name === 'string' ? rec.name : undefined;
    const path = `${prefix}${name ?? `[${i}]`}`;
    const problem = (message: string) => problems.push({ parameter: path, message });
    if (name === undefined || (name === '' && rec.type !== 'nested')) {
      problem('needs a non-empty name');
      return;
    }
    if (names.has(name)) problem('is declared twice');
    names.add(name);
    switch (rec.type) {
      case 'string':
      case 'text':
        if (rec.default !== undefined) {
          const err = textProblem(rec as unknown as StringParameter | TextParameter, rec.default);
          if (err) problem(`has a default that ${err}`);
        }
        break;
      case 'int':
        if (rec.default !== undefined && !Number.isSafeInteger(rec.default))
          problem('has a default that is not an integer');
        for (const k of ['min', 'max'] as const)
          if (rec[k] !== undefined && !Number.isSafeInteger(rec[k]))
            problem(`has a ${k} that is not an integer`);
        break;
      case 'boolean':
        if (rec.default !== undefined && typeof rec.default !== 'boolean')
          problem('has a default that is not true or false');
        break;
      case 'choice': {
        const choices = rec.choices;
        if (!Array.isArray(choices) || choices.length === 0 || !choices.every((c) => typeof c === 'string')) {
          problem('needs choices: a non-empty list of strings');
          break;
        }
        const defaults: unknown[] = rec.default === undefined ? [] : [rec.default].flat();
        for (const d of defaults)
          if (!(choices as unknown[]).includes(d))
            problem(`has a default ${JSON.stringify(d)} that is not one of its choices`);
        if (defaults.length > 1 && rec.multiple !== true) problem('has several defaults but is not multiple');
        break;
      }
      case 'nested':
        problems.push(...checkParameterDeclarations(rec.fields, name === '' ? prefix : `${path}.`));
        break;
      default:
        problem('has no known type (string, text, int, boolean, choice or nested)');
    }
  });
  return problems;
}

/**
 * Turns the values a force was given into build properties, or throws ForceParameterError
 * listing every problem. `values` holds typed values or text, a nested group as an object
 * or as `group.field` keys (what `lathe force -p group.field=value` sends); `extra` (the
 * implicit scheduler's) lets undeclared names through as they are, when they are property
 * names and not reserved (RESERVED_PROPERTY_NAMES).
 */
export function parametersToProperties(
  scheduler: string,
  params: readonly ForceParameter[],
  given: Readonly<Record<string, unknown>>,
  extra = false,
): Record<string, unknown> {
  const values = nestDottedKeys(params, given);
  const problems: ParameterProblem[] = [];
  const props = collect(params, values, '', problems);
  const declared = new Set(params.flatMap(topNames));
  for (const [name, value] of Object.entries(values)) {
    if (declared.has(name)) continue;
    if (extra) {
      const refused = freePropertyNameProblem(name);
      if (refused) problems.push({ parameter: name, message: refused });
      else props[name] = value;
    } else
      problems.push({
        parameter: name,
        message: `is not declared (parameters: ${[...declared].join(', ') || 'none'})`,
      });
  }
  if (problems.length > 0) throw new ForceParameterError(scheduler, problems);
  return props;
}

/** Buildbot's rule for a property's name (its `property_name` validation), not empty. */
const PROPERTY_NAME = /^[\w.\-/~:]+$/;
const MAX_PROPERTY_NAME = 256;

/**
 * Names a free-form property may not take: the force sets them itself (`owner`, `reason`,
 * `scheduler`) and the build sets its identity and source stamp over what the request
 * carried, so a value given under them would be silently lost.
 */
export const RESERVED_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  'owner',
  'reason',
  'scheduler',
  'buildername',
  'buildnumber',
  'workername',
  'branch',
  'revision',
  'repository',
  'codebase',
  'project',
]);

/** Why `name` cannot be a free-form property of a forced build, or undefined when it can. */
function freePropertyNameProblem(name: string): string | undefined {
  if (name.length > MAX_PROPERTY_NAME) return `is longer than ${MAX_PROPERTY_NAME} characters`;
  if (!PROPERTY_NAME.test(name)) return 'is not a property name (letters, digits and _ . - / ~ : only)';
  if (RESERVED_PROPERTY_NAMES.has(name)) return 'is set by the force or the build itself and cannot be given';
  return undefined;
}

/** `{"group.field": v}` as `{group: {field: v}}` where `group` is a declared nested group. */
function nestDottedKeys(
  params: readonly ForceParameter[],
  values: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const groups = new Map<string, NestedParameter>();
  const walk = (list: readonly ForceParameter[]) => {
    for (const p of list)
      if (p.type === 'nested') {
        if (p.name === '') walk(p.fields);
        else groups.set(p.name, p);
      }
  };
  walk(params);
  const out: Record<string, unknown> = {};
  const dotted = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(values)) {
    const dot = key.indexOf('.');
    const group = dot > 0 ? key.slice(0, dot) : '';
    if (!groups.has(group)) out[key] = value;
    else {
      const inner = dotted.get(group) ?? {};
      inner[key.slice(dot + 1)] = value;
      dotted.set(group, inner);
    }
  }
  for (const [group, inner] of dotted) {
    const whole = out[group];
    const merged =
      typeof whole === 'object' && whole !== null && !Array.isArray(whole) ? { ...whole, ...inner } : inner;
    out[group] = nestDottedKeys(groups.get(group)!.fields, merged);
  }
  return out;
}

/** The names a list of parameters takes at its own level (an unnamed group lends its fields'). */
function topNames(p: ForceParameter): string[] {
  return p.type === 'nested' && p.name === '' ? p.fields.flatMap(topNames) : [p.name];
}

function collect(
  params: readonly ForceParameter[],
  values: Readonly<Record<string, unknown>>,
  prefix: string,
  problems: ParameterProblem[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const path = `${prefix}${p.name}`;
    if (p.type === 'nested') {
      if (p.name === '') {
        Object.assign(out, collect(p.fields, values, prefix, problems));
        continue;
      }
      const given = values[p.name] ?? {};
      if (typeof given !== 'object' || given === null || Array.isArray(given)) {
        problems.push({ parameter: path, message: 'must be a group of values (an object)' });
        continue;
      }
      const group = given as Record<string, unknown>;
      const known = new Set(p.fields.flatMap(topNames));
      for (const k of Object.keys(group))
        if (!known.has(k)) problems.push({ parameter: `${path}.${k}`, message: 'is not declared' });
      out[p.name] = collect(p.fields, group, `${path}.`, problems);
      continue;
    }
    const given = values[p.name];
    const missing = given === undefined || given === null || (p.type === 'text' && given === '');
    if (missing && p.required) {
      problems.push({ parameter: path, message: 'is required' });
      continue;
    }
    const result = missing ? { value: defaultOf(p) } : convert(p, given);
    if ('error' in result) problems.push({ parameter: path, message: result.error });
    else out[p.name] = result.value;
  }
  return out;
}

function defaultOf(p: Exclude<ForceParameter, NestedParameter>): unknown {
  switch (p.type) {
    case 'string':
    case 'text':
      return p.default ?? '';
    case 'int':
      return p.default ?? 0;
    case 'boolean':
      return p.default ?? false;
    case 'choice':
      if (p.multiple) return p.default === undefined ? [] : [p.default].flat();
      return p.default ?? p.choices[0];
  }
}

type Converted = { value: unknown } | { error: string };

const TRUE_TEXT = new Set(['true', 'yes', 'on', '1']);
const FALSE_TEXT = new Set(['false', 'no', 'off', '0']);

function convert(p: Exclude<ForceParameter, NestedParameter>, given: unknown): Converted {
  const shown = JSON.stringify(given);
  switch (p.type) {
    case 'string':
    case 'text': {
      if (typeof given !== 'string') return { error: `must be text, got ${shown}` };
      const err = textProblem(p, given);
      return err ? { error: err } : { value: given };
    }
    case 'int': {
      const n = typeof given === 'string' && /^[+-]?\d+$/.test(given.trim()) ? Number(given) : given;
      if (typeof n !== 'number' || !Number.isSafeInteger(n))
        return { error: `must be an integer, got ${shown}` };
      if (p.min !== undefined && n < p.min) return { error: `must be at least ${p.min}, got ${n}` };
      if (p.max !== undefined && n > p.max) return { error: `must be at most ${p.max}, got ${n}` };
      return { value: n };
    }
    case 'boolean': {
      if (typeof given === 'boolean') return { value: given };
      const t = typeof given === 'string' ? given.trim().toLowerCase() : undefined;
      if (t !== undefined && TRUE_TEXT.has(t)) return { value: true };
      if (t !== undefined && FALSE_TEXT.has(t)) return { value: false };
      return { error: `must be true or false, got ${shown}` };
    }
    case 'choice': {
      const picked = p.multiple && typeof given === 'string' ? given.split(',') : given;
      const list = Array.isArray(picked) ? picked : [picked];
      if (!p.multiple && Array.isArray(picked)) return { error: `takes one choice, got ${shown}` };
      const bad = list.find((c) => typeof c !== 'string' || !p.choices.includes(c));
      if (bad !== undefined)
        return {
          error: `must be one of ${p.choices.map((c) => JSON.stringify(c)).join(', ')}, got ${JSON.stringify(bad)}`,
        };
      return { value: p.multiple ? list : list[0] };
    }
  }
}

function textProblem(p: StringParameter | TextParameter, value: unknown): string | null {
  if (typeof value !== 'string') return `must be text, got ${JSON.stringify(value)}`;
  if (p.type === 'string' && /[\r\n]/.test(value)) return 'must be a single line (use a text parameter)';
  if (p.maxLength !== undefined && value.length > p.maxLength)
    return `must be at most ${p.maxLength} characters, got ${value.length}`;
  if (p.regex) {
    const whole = new RegExp(`^(?:${p.regex.source})$`, p.regex.flags.replace(/[gy]/g, ''));
    if (!whole.test(value)) return `must match ${p.regex}, got ${JSON.stringify(value)}`;
  }
  return null;
}
