// The `cluster` setting: this master shares its database with other masters. Without it a
// master behaves as the only one (it runs every scheduler and change source, and publishes
// its events in-process only). With it, schedulers and change sources run under leases on
// one master at a time, events travel between masters through the database, and `roles`
// says what this master does.

/**
 * `builds`: the worker port and the build runner; `schedulers`: may run schedulers and
 * change sources; `web`: serves `www` (the data API, the web UI, webhooks).
 */
export type MasterRole = 'builds' | 'schedulers' | 'web';
export const MASTER_ROLES: readonly MasterRole[] = ['builds', 'schedulers', 'web'];

export interface ClusterConfig {
  /** What this master does; default all three. `['web']` is a web-only master. */
  readonly roles?: readonly MasterRole[];
  /** How long a master holds a scheduler or change source without renewing it; default 30. */
  readonly leaseSeconds?: number;
  /**
   * How often the master renews its leases and its heartbeat (which keeps its build request
   * claims: `masterExpirySeconds`); default 10. Must be under half of both.
   */
  readonly heartbeatSeconds?: number;
  /** How often other masters' events are read from the database, in ms; default 250. */
  readonly pollMs?: number;
  /** How long events stay in the database for other masters; default 3600 seconds. */
  readonly outboxRetentionSeconds?: number;
}

export interface ResolvedCluster {
  readonly roles: readonly MasterRole[];
  readonly leaseSeconds: number;
  readonly heartbeatSeconds: number;
  readonly pollMs: number;
  readonly outboxRetentionSeconds: number;
}

const KNOWN_CLUSTER = new Set([
  'roles',
  'leaseSeconds',
  'heartbeatSeconds',
  'pollMs',
  'outboxRetentionSeconds',
]);

const positiveNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** The resolved setting, or null without `cluster`; problems go to `issue(key, message)`. */
export function resolveCluster(
  raw: unknown,
  masterExpirySeconds: number,
  issue: (key: string, message: string) => void,
): ResolvedCluster | null {
  if (raw === undefined) return null;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issue('cluster', "must be an object such as { roles: ['builds', 'schedulers', 'web'] }");
    return null;
  }
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c))
    if (!KNOWN_CLUSTER.has(key))
      issue(`cluster.${key}`, `unknown setting (known: ${[...KNOWN_CLUSTER].join(', ')})`);
  const roles = c.roles ?? MASTER_ROLES;
  if (
    !Array.isArray(roles) ||
    roles.length === 0 ||
    !roles.every((r) => MASTER_ROLES.includes(r as MasterRole))
  )
    issue('cluster.roles', `must be a non-empty list of ${MASTER_ROLES.map((r) => `'${r}'`).join(', ')}`);
  const number = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (!positiveNumber(v)) {
      issue(`cluster.${key}`, 'must be a positive number');
      return fallback;
    }
    return v;
  };
  const leaseSeconds = number('leaseSeconds', 30);
  const heartbeatSeconds = number('heartbeatSeconds', 10);
  const pollMs = number('pollMs', 250);
  const outboxRetentionSeconds = number('outboxRetentionSeconds', 3600);
  // A master must renew well before others may take over, or a live master loses its work.
  if (heartbeatSeconds * 2 > Math.min(leaseSeconds, masterExpirySeconds))
    issue(
      'cluster.heartbeatSeconds',
      `must be at most half of cluster.leaseSeconds (${leaseSeconds}) and of masterExpirySeconds (${masterExpirySeconds})`,
    );
  return {
    roles: Array.isArray(roles) ? (roles as MasterRole[]) : MASTER_ROLES,
    leaseSeconds,
    heartbeatSeconds,
    pollMs,
    outboxRetentionSeconds,
  };
}
