// The try scheduler entries of master.config.ts (tryJobdirScheduler(), tryUserpassScheduler())
// and their resolved forms.

export interface TrySchedulerOptions {
  readonly name: string;
  /** The builders a try job may ask for; a job naming any other builder builds nothing. */
  readonly builderNames: readonly string[];
  /** Properties of the buildsets it adds; a job's own properties win. */
  readonly properties?: Readonly<Record<string, unknown>>;
}

export interface TryJobdirOptions extends TrySchedulerOptions {
  /**
   * The job directory (relative to the master directory): `buildbot tryserver` writes job
   * files into its `tmp/` and moves them to `new/`; handled ones move to `cur/`.
   */
  readonly jobdir: string;
}

export interface TryUserpassOptions extends TrySchedulerOptions {
  /** Logins on the worker port for `buildbot try --connect=pb` / `lathe try`: [user, password] pairs. */
  readonly userpass: readonly (readonly [string, string])[];
}

export type TrySchedulerEntry =
  | (TryJobdirOptions & { readonly kind: 'Try_Jobdir' })
  | (TryUserpassOptions & { readonly kind: 'Try_Userpass' });

export interface ResolvedTryJobdirConfig {
  readonly kind: 'Try_Jobdir';
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
  readonly jobdir: string;
}

export interface ResolvedTryUserpassConfig {
  readonly kind: 'Try_Userpass';
  readonly name: string;
  readonly builderNames: readonly string[];
  readonly properties: Readonly<Record<string, unknown>>;
  readonly userpass: readonly (readonly [string, string])[];
}

export type ResolvedTrySchedulerConfig = ResolvedTryJobdirConfig | ResolvedTryUserpassConfig;
