// A force scheduler's parameters as JSON, what the web UI's force form renders (the
// forceschedulers resource, api/resources/forceschedulers.ts).
import type { ForceParameter } from './force-parameters.js';

/** A parameter as JSON: a regex as its source text. */
export function parameterSpec(p: ForceParameter): Record<string, unknown> {
  const base = { name: p.name, type: p.type, label: p.label ?? p.name, required: p.required ?? false };
  switch (p.type) {
    case 'string':
    case 'text':
      return {
        ...base,
        default: p.default ?? '',
        ...(p.regex ? { regex: p.regex.source } : {}),
        ...(p.maxLength !== undefined ? { maxLength: p.maxLength } : {}),
      };
    case 'int':
      return {
        ...base,
        default: p.default ?? 0,
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
      };
    case 'boolean':
      return { ...base, default: p.default ?? false };
    case 'choice':
      return {
        ...base,
        choices: p.choices,
        multiple: p.multiple ?? false,
        default: p.default ?? (p.multiple ? [] : p.choices[0]),
      };
    case 'nested':
      return { ...base, fields: p.fields.map(parameterSpec) };
  }
}
