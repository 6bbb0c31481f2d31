// The `www.changeHooks` setting (Buildbot's `change_hook_dialects`): which providers are
// served under /change_hook/<provider>, each with the secret its requests are signed with.

import { Properties } from '../../properties/properties.js';
import { isRenderable, type Renderable, render } from '../../properties/renderable.js';
import type { SecretManager } from '../../properties/secrets.js';

export const HOOK_PROVIDERS = [
  'github',
  'gitlab',
  'gitea',
  'bitbucketcloud',
  'bitbucketserver',
  'generic',
] as const;
export type HookProviderName = (typeof HOOK_PROVIDERS)[number];

export interface ChangeHookOptions {
  /**
   * The HMAC key (GitHub, Gitea/Forgejo, Bitbucket, generic) or token (GitLab): a string
   * or `secret('name')` from the config's secretsProviders. Required: unsigned hooks are refused.
   */
  readonly secret: string | Renderable<string>;
  /** The codebase of the changes; default ''. */
  readonly codebase?: string;
}

export type ChangeHooksConfig = { readonly [P in HookProviderName]?: ChangeHookOptions };

export interface ResolvedChangeHook {
  readonly secret: string | Renderable<string>;
  readonly codebase: string;
}

export type ResolvedChangeHooks = { readonly [P in HookProviderName]?: ResolvedChangeHook };

const KNOWN_OPTIONS = new Set(['secret', 'codebase']);

/** The resolved setting; problems go to `issue(path, message)` and never quote a secret. */
export function resolveChangeHooks(
  raw: unknown,
  issue: (key: string, message: string) => void,
): ResolvedChangeHooks {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issue('www.changeHooks', 'must be an object such as { github: { secret: secret("github-hook") } }');
    return {};
  }
  const out: Record<string, ResolvedChangeHook> = {};
  for (const [name, options] of Object.entries(raw)) {
    const key = `www.changeHooks.${name}`;
    if (!(HOOK_PROVIDERS as readonly string[]).includes(name)) {
      issue(key, `unknown provider (known: ${HOOK_PROVIDERS.join(', ')})`);
      continue;
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      issue(key, 'must be an object such as { secret: secret("name") }');
      continue;
    }
    const o = options as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!KNOWN_OPTIONS.has(k)) issue(`${key}.${k}`, 'unknown option (known: secret, codebase)');
    const secret = o.secret;
    if (!((typeof secret === 'string' && secret !== '') || isRenderable(secret)))
      issue(`${key}.secret`, 'is required: a non-empty string or secret("name")');
    if (o.codebase !== undefined && typeof o.codebase !== 'string')
      issue(`${key}.codebase`, 'must be a string');
    out[name] = {
      secret: secret as ResolvedChangeHook['secret'],
      codebase: (o.codebase as string | undefined) ?? '',
    };
  }
  return out;
}

/** Looks each hook's secret up (through the secrets providers for `secret('name')`). */
export async function hookSecrets(
  hooks: ResolvedChangeHooks,
  secrets: SecretManager,
): Promise<Map<HookProviderName, { secret: string; codebase: string }>> {
  const ctx = { properties: new Properties(), getSecret: (name: string) => secrets.get(name) };
  const out = new Map<HookProviderName, { secret: string; codebase: string }>();
  for (const name of HOOK_PROVIDERS) {
    const hook = hooks[name];
    if (!hook) continue;
    const secret = await render(hook.secret, ctx);
    if (typeof secret !== 'string' || secret === '')
      throw new Error(`www.changeHooks.${name}.secret rendered to an empty or non-text value`);
    out.set(name, { secret, codebase: hook.codebase });
  }
  return out;
}
