// What an action declares: the resource type and paths it is POSTed to (Buildbot's JSON-RPC
// shape: `{"jsonrpc": "2.0", "method": "stop", "params": {…}, "id": 1}`), the permission it
// needs, its params and result (for the OpenAPI document), and what it does.
import { PBError } from '@lathe/pb';
import type { Permission } from '../../config/www-auth.js';
import type { StopRunningBuild } from '../../control/build-actions.js';
import type { Master } from '../../master.js';
import type { Resource } from '../data-api.js';

/** What actions act on: the running master, and the build runner when one is attached. */
export interface ActionContext {
  readonly master: Master;
  readonly stopBuild?: StopRunningBuild;
  /** The master's log, for what an action changed and who asked. */
  readonly log: (line: string) => void;
}

export interface ActionParam {
  readonly type: 'string' | 'object';
  readonly description: string;
}

export interface ActionDecl {
  /** The resource type's plural (`builds`). */
  readonly resource: string;
  /** The JSON-RPC method (`stop`). */
  readonly method: string;
  readonly permission: Permission;
  readonly description: string;
  /** The declared path patterns it may be POSTed to, each naming one resource. */
  readonly paths: readonly string[];
  /** Every param is optional. */
  readonly params: Readonly<Record<string, ActionParam>>;
  /** JSON schema of the result. */
  readonly result: Readonly<Record<string, unknown>>;
  /** `resource` is the one the path names, read whole; `user` is who asked (null: anonymous). */
  run(resource: Resource, params: ActionParams, ctx: ActionContext, user: string | null): Promise<unknown>;
}

/** Params as sent, with typed getters that refuse a wrong type. */
export class ActionParams {
  constructor(private readonly raw: Readonly<Record<string, unknown>>) {}

  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ActionError(400, `params.${name} must be a string`);
    return v;
  }

  object(name: string): Record<string, unknown> | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      throw new ActionError(400, `params.${name} must be an object`);
    return v as Record<string, unknown>;
  }
}

/**
 * An action refused: 400 for bad params, 409 when the resource's state does not allow it.
 * `data` goes out as the JSON-RPC error's `data` (a force's problems, by parameter).
 */
export class ActionError extends Error {
  override readonly name = 'ActionError';
  constructor(
    readonly status: 400 | 409,
    message: string,
    readonly data?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** Runs a control function whose PBErrors are meant for the user, as 409 answers. */
export async function conflictOnRefusal<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PBError) throw new ActionError(409, err.message);
    throw err;
  }
}

export const by = (user: string | null) => user ?? 'anonymous';
