/**
 * The environment of a build process, from the `env` argument of `shell`:
 * values override the worker's own environment, `null` removes a variable, a
 * list is joined with ':' (PATH-style), `${NAME}` expands to the worker's value
 * of NAME, and PYTHONPATH keeps the worker's PYTHONPATH at its end.
 */
import { BadArgsError } from '../protocol/failure.js';
import { reprText } from '../protocol/pyrepr.js';
import { isPlainObject, pyTruthy } from '../protocol/values.js';

const variableReference = /\$\{([0-9a-zA-Z_]*)\}/g;

export function buildEnvironment(envArg: unknown, workerEnv: NodeJS.ProcessEnv): Record<string, string> {
  const base = definedOnly(workerEnv);
  if (!pyTruthy(envArg)) return base;
  if (!isPlainObject(envArg)) {
    throw new BadArgsError(
      `'env' must be a dictionary, not ${reprText(typeof envArg)}`,
      'builtins.TypeError',
    );
  }
  const requested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(envArg)) {
    requested[key] = Array.isArray(value) ? joinPathList(key, value) : value;
  }
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Buildbot's own ${VAR} syntax, expanded below
  if (typeof requested.PYTHONPATH === 'string') requested.PYTHONPATH += ':${PYTHONPATH}';

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (!(key in requested) || requested[key] !== null) env[key] = value;
  }
  for (const [key, value] of Object.entries(requested)) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') {
      throw new BadArgsError(`'env' values must be strings or lists; key ${reprText(key)} is incorrect`);
    }
    env[key] = value.replace(variableReference, (_, name: string) => workerEnv[name] ?? '');
  }
  return env;
}

function joinPathList(key: string, items: unknown[]): string {
  if (!items.every((item) => typeof item === 'string')) {
    throw new BadArgsError(
      `'env' list for key ${reprText(key)} must contain only strings`,
      'builtins.TypeError',
    );
  }
  return items.join(':');
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
