// Where secrets come from. Providers are asked in order; the first that knows a name wins.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretNotFoundError, SecretProviderError } from './errors.js';
import type { Redactor } from './redactor.js';

export interface SecretProvider {
  readonly name: string;
  /** The secret's value, or undefined when this provider does not have it. */
  get(name: string): Promise<string | undefined>;
}

// Secret names become file names: no path separators, no hidden or parent entries.
const SAFE_NAME = /^[\w][\w.-]*$/;

export interface FileSecretOptions {
  /** Remove surrounding whitespace (editors add a final newline); default true. */
  readonly strip?: boolean;
  /** Refuse a directory that group or others can read (default true), as Buildbot does. */
  readonly requirePrivateDirectory?: boolean;
}

/** One secret per file in a directory: the file name is the secret name. */
export class FileSecretProvider implements SecretProvider {
  readonly name: string;
  readonly #dir: string;
  readonly #strip: boolean;
  readonly #requirePrivate: boolean;
  #checked: Promise<void> | undefined;

  constructor(dir: string, options: FileSecretOptions = {}) {
    this.name = `files in ${dir}`;
    this.#dir = dir;
    this.#strip = options.strip ?? true;
    this.#requirePrivate = options.requirePrivateDirectory ?? true;
  }

  async get(name: string): Promise<string | undefined> {
    if (!SAFE_NAME.test(name)) return undefined;
    this.#checked ??= this.#checkDirectory();
    await this.#checked;
    let text: string;
    try {
      text = await readFile(join(this.#dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SecretProviderError(this.name, `cannot read secret ${name}`, { cause: e });
    }
    return this.#strip ? text.trim() : text;
  }

  async #checkDirectory(): Promise<void> {
    let mode: number;
    try {
      mode = (await stat(this.#dir)).mode;
    } catch (e) {
      this.#checked = undefined;
      throw new SecretProviderError(this.name, 'the secrets directory is not readable', { cause: e });
    }
    if (this.#requirePrivate && (mode & 0o077) !== 0) {
      throw new SecretProviderError(
        this.name,
        `permissions ${(mode & 0o777).toString(8)} are too open; chmod 700 the directory`,
      );
    }
  }
}

export interface EnvSecretOptions {
  /** Only variables with this prefix are secrets: prefix LATHE_SECRET_ maps `token` to LATHE_SECRET_token. */
  readonly prefix?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Secrets from environment variables of the master process. */
export class EnvSecretProvider implements SecretProvider {
  readonly name: string;
  readonly #prefix: string;
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(options: EnvSecretOptions = {}) {
    this.#prefix = options.prefix ?? '';
    this.#env = options.env ?? process.env;
    this.name = `environment${this.#prefix ? ` (${this.#prefix}*)` : ''}`;
  }

  async get(name: string): Promise<string | undefined> {
    return this.#env[this.#prefix + name];
  }
}

/** Secrets given directly, mostly for tests and small setups. */
export class StaticSecretProvider implements SecretProvider {
  readonly name = 'static';
  readonly #values: ReadonlyMap<string, string>;
  constructor(values: Readonly<Record<string, string>>) {
    this.#values = new Map(Object.entries(values));
  }
  async get(name: string): Promise<string | undefined> {
    return this.#values.get(name);
  }
}

export class SecretManager {
  readonly #providers: readonly SecretProvider[];
  constructor(providers: readonly SecretProvider[]) {
    this.#providers = [...providers];
  }

  async get(name: string): Promise<string> {
    for (const p of this.#providers) {
      const v = await p.get(name);
      if (v !== undefined) return v;
    }
    throw new SecretNotFoundError(name);
  }

  /** A `RenderContext.getSecret` that registers each value it hands out with the redactor. */
  forBuild(redactor: Redactor): (name: string) => Promise<string> {
    return async (name) => {
      const value = await this.get(name);
      redactor.add(value, name);
      return value;
    };
  }
}
