// Every event the master publishes, with its payload. Kinds are `<entity>.<what>`; the
// routing key appends the ids listed in KEY_FIELDS, so a consumer can subscribe to one
// build's or one log's events (`log.append.*.42`) the way Buildbot's routing keys allow.

export interface BusEvents {
  'master.started': { masterid: number; name: string };
  'master.stopped': { masterid: number; name: string };
  'change.new': {
    changeid: number;
    sourcestampid: number;
    branch: string | null;
    repository: string;
    project: string;
    codebase: string;
  };
  'buildset.new': {
    buildsetid: number;
    buildrequestids: readonly number[];
    builderids: readonly number[];
    reason: string | null;
  };
  'buildset.complete': { buildsetid: number; results: number };
  'buildrequest.new': { buildrequestid: number; buildsetid: number; builderid: number; priority: number };
  'buildrequest.claimed': { buildrequestid: number; builderid: number; masterid: number };
  'buildrequest.unclaimed': { buildrequestid: number; builderid: number };
  'buildrequest.complete': { buildrequestid: number; builderid: number; buildsetid: number; results: number };
  'build.started': {
    buildid: number;
    builderid: number;
    number: number;
    buildrequestid: number;
    workerid: number | null;
    masterid: number;
  };
  'build.state': { buildid: number; builderid: number; state: string };
  /** Properties set or changed, `{ name: [value, source] }`, as stored: secrets masked. */
  'build.properties': { buildid: number; properties: Readonly<Record<string, readonly [unknown, string]>> };
  'build.finished': { buildid: number; builderid: number; number: number; results: number };
  /**
   * A running build's estimated finish (epoch seconds), learned from the builder's recent
   * builds; sent as steps start and end and, at most about once a second, as output comes.
   * Builders without history send none.
   */
  'build.eta': {
    buildid: number;
    builderid: number;
    number: number;
    /** The running step, if any, and when it should end. */
    stepid: number | null;
    stepEta: number | null;
    buildEta: number;
    /** Share of the expected work done, 0..1. */
    progress: number | null;
  };
  'step.started': { stepid: number; buildid: number; number: number; name: string };
  'step.finished': { stepid: number; buildid: number; results: number };
  'log.new': { logid: number; stepid: number; name: string; type: string };
  'log.append': { logid: number; stepid: number; firstLine: number; lastLine: number };
  'log.finished': { logid: number; stepid: number; numLines: number };
  'worker.connected': { workerid: number; name: string; masterid: number };
  'worker.disconnected': { workerid: number; name: string; masterid: number };
  'worker.configured': { workerid: number; name: string };
  'worker.state': { workerid: number; paused: boolean; graceful: boolean };
  /** A latent worker's life (workers/latent/): insubstantial, starting, substantiated, stopping. */
  'worker.latent': { workerid: number; name: string; state: string };
  /** A latent worker's start attempt failed; retryInSeconds null: it gave up (see worker.missing). */
  'worker.start-failed': {
    workerid: number;
    name: string;
    attempt: number;
    error: string;
    retryInSeconds: number | null;
  };
  /** A latent worker's stored status changed (data/latent-workers.ts): what the data API reads. */
  'worker.latent-status': { workerid: number };
  /** A latent worker could not be started in `startAttempts` tries; requests keep waiting. */
  'worker.missing': { workerid: number; name: string; attempts: number; error: string; since: number };
  /** A scheduler's row changed (data/service-records.ts): config, who runs it, its times. */
  'scheduler.updated': { schedulerid: number };
  /** The same, for a force scheduler (also a `scheduler.updated`). */
  'forcescheduler.updated': { schedulerid: number };
  /** A change source's row changed: config, who runs it, its last poll, change or error. */
  'changesource.updated': { changesourceid: number };
  'builder.configured': { builderid: number; name: string };
  'config.reconfigured': { added: number; changed: number; removed: number };
  /** A test was muted or unmuted (data/test-history.ts). */
  'test.quarantine': { testid: number; builderid: number; muted: boolean };
  'annotation.new': { annotationid: number; buildid: number };
}

export type EventKind = keyof BusEvents & string;

/** Payload fields appended to the routing key after the kind, in this order. */
export const KEY_FIELDS: { readonly [K in EventKind]: readonly (keyof BusEvents[K] & string)[] } = {
  'master.started': ['masterid'],
  'master.stopped': ['masterid'],
  'change.new': ['changeid'],
  'buildset.new': ['buildsetid'],
  'buildset.complete': ['buildsetid'],
  'buildrequest.new': ['builderid', 'buildrequestid'],
  'buildrequest.claimed': ['builderid', 'buildrequestid'],
  'buildrequest.unclaimed': ['builderid', 'buildrequestid'],
  'buildrequest.complete': ['builderid', 'buildrequestid'],
  'build.started': ['builderid', 'buildid'],
  'build.state': ['builderid', 'buildid'],
  'build.properties': ['buildid'],
  'build.finished': ['builderid', 'buildid'],
  'build.eta': ['builderid', 'buildid'],
  'step.started': ['buildid', 'stepid'],
  'step.finished': ['buildid', 'stepid'],
  'log.new': ['stepid', 'logid'],
  'log.append': ['stepid', 'logid'],
  'log.finished': ['stepid', 'logid'],
  'worker.connected': ['workerid'],
  'worker.disconnected': ['workerid'],
  'worker.configured': ['workerid'],
  'worker.state': ['workerid'],
  'worker.latent': ['workerid'],
  'worker.start-failed': ['workerid'],
  'worker.missing': ['workerid'],
  'worker.latent-status': ['workerid'],
  'scheduler.updated': ['schedulerid'],
  'forcescheduler.updated': ['schedulerid'],
  'changesource.updated': ['changesourceid'],
  'builder.configured': ['builderid'],
  'config.reconfigured': [],
  'test.quarantine': ['builderid', 'testid'],
  'annotation.new': ['buildid', 'annotationid'],
};

export interface BusMessage<K extends EventKind = EventKind> {
  readonly kind: K;
  /** `[entity, what, ...ids]` — what subscription patterns match against. */
  readonly key: readonly string[];
  readonly payload: BusEvents[K];
  /** The master that published it, when it is another one (relayed through the database). */
  readonly origin?: number;
}

/** The message union for a set of kinds, so handlers can switch on `kind`. */
export type MessageOf<K extends EventKind> = K extends EventKind ? BusMessage<K> : never;

type IsWild<S extends string> = S extends '*' | '#' ? true : false;

type MatchKind<E extends string, V extends string> = {
  [K in EventKind]: K extends `${infer KE}.${infer KV}`
    ? (IsWild<E> extends true ? true : E extends KE ? true : false) extends true
      ? IsWild<V> extends true
        ? K
        : V extends KV
          ? K
          : never
      : never
    : never;
}[EventKind];

/**
 * The kinds a pattern can match, worked out at compile time from its first two segments.
 * Patterns the type cannot see through fall back to every kind; matching at run time is
 * always exact.
 */
export type KindsMatching<P extends string> = P extends '#'
  ? EventKind
  : P extends `${infer E}.${infer V}.${string}`
    ? MatchKind<E, V>
    : P extends `${infer E}.${infer V}`
      ? MatchKind<E, V>
      : EventKind;
