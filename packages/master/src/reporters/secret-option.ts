// Reporter options that are credentials: a token, an HMAC key, a webhook URL that is itself
// the credential (Slack, Discord). Given as a literal or as `secret('name')` from the
// config's secretsProviders, and looked up at each delivery so a rotated secret is used
// without a reconfig.
import { Properties } from '../properties/properties.js';
import { type Renderable, render } from '../properties/renderable.js';

export type SecretOption = string | Renderable<string>;

/** Looks a secret up by name (what `SecretManager.get` does). */
export type SecretLookup = (name: string) => Promise<string>;

/**
 * Implemented by reporters with `SecretOption`s. Whoever builds the reporters from the config
 * calls `useSecrets` with the config's secrets before the first delivery; a reporter whose
 * options are all literals works without it.
 */
export interface UsesSecrets {
  useSecrets(lookup: SecretLookup): void;
}

export function usesSecrets(reporter: object): reporter is UsesSecrets {
  return typeof (reporter as Partial<UsesSecrets>).useSecrets === 'function';
}

/** A secret could not be looked up. Not permanent: adding the secret lets the retries succeed. */
export class SecretOptionError extends Error {
  override readonly name = 'SecretOptionError';
}

/** Resolves a reporter's secret options through the lookup it was given. */
export class SecretResolver implements UsesSecrets {
  #lookup: SecretLookup | undefined;

  constructor(lookup?: SecretLookup) {
    this.#lookup = lookup;
  }

  useSecrets(lookup: SecretLookup): void {
    this.#lookup = lookup;
  }

  /** `what` names the option in errors ("token"); the value itself is never quoted. */
  async resolve(option: SecretOption, what: string): Promise<string> {
    if (typeof option === 'string') return option;
    const lookup = this.#lookup;
    let value: unknown;
    try {
      value = await render(option, {
        properties: new Properties(),
        ...(lookup ? { getSecret: lookup } : {}),
      });
    } catch (e) {
      throw new SecretOptionError(`cannot read the ${what}: ${(e as Error).message}`, { cause: e });
    }
    if (typeof value !== 'string' || value === '')
      throw new SecretOptionError(`the ${what} rendered to an empty or non-text value`);
    return value;
  }
}
