// Row types of every table, as Kysely sees them. Times are integer epoch seconds and
// flags are 0/1 integers, as in Buildbot's schema; both map unchanged to PostgreSQL.
import type { Generated } from 'kysely';

export interface MastersTable {
  id: Generated<number>;
  name: string;
  active: number;
  last_active: number;
}

export interface WorkersTable {
  id: Generated<number>;
  name: string;
  /** JSON object: what the worker reported about itself (admin, host, version, …). */
  info: string;
  paused: Generated<number>;
  graceful: Generated<number>;
}

export interface ConnectedWorkersTable {
  id: Generated<number>;
  masterid: number;
  workerid: number;
}

export interface ConfiguredWorkersTable {
  id: Generated<number>;
  builderid: number;
  masterid: number;
  workerid: number;
}

export interface BuildersTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  /** JSON array of strings. */
  tags: string;
  project: string | null;
}

export interface BuilderMastersTable {
  id: Generated<number>;
  builderid: number;
  masterid: number;
}

export interface PatchesTable {
  id: Generated<number>;
  patchlevel: number;
  patch_base64: string;
  patch_author: string | null;
  patch_comment: string | null;
  subdir: string | null;
}

export interface SourcestampsTable {
  id: Generated<number>;
  /** Identity of (branch, revision, patch, repository, codebase, project): equal stamps are shared. */
  ss_hash: string;
  branch: string | null;
  revision: string | null;
  patchid: number | null;
  repository: string;
  codebase: string;
  project: string;
  created_at: number;
}

export interface ChangesTable {
  id: Generated<number>;
  author: string;
  committer: string | null;
  comments: string;
  branch: string | null;
  revision: string | null;
  revlink: string | null;
  when_timestamp: number;
  category: string | null;
  repository: string;
  codebase: string;
  project: string;
  sourcestampid: number;
  parent_changeid: number | null;
}

export interface ChangeFilesTable {
  id: Generated<number>;
  changeid: number;
  filename: string;
}

export interface ChangePropertiesTable {
  id: Generated<number>;
  changeid: number;
  property_name: string;
  /** JSON [value, source], as Buildbot stores properties. */
  property_value: string;
}

export interface BuildsetsTable {
  id: Generated<number>;
  external_idstring: string | null;
  reason: string | null;
  submitted_at: number;
  complete: number;
  complete_at: number | null;
  results: number | null;
  parent_buildid: number | null;
  parent_relationship: string | null;
}

export interface BuildsetSourcestampsTable {
  id: Generated<number>;
  buildsetid: number;
  sourcestampid: number;
}

export interface BuildsetPropertiesTable {
  id: Generated<number>;
  buildsetid: number;
  property_name: string;
  property_value: string;
}

export interface BuildrequestsTable {
  id: Generated<number>;
  buildsetid: number;
  builderid: number;
  priority: number;
  submitted_at: number;
  claimed_by_master: number | null;
  claimed_at: number | null;
  complete: number;
  results: number | null;
  complete_at: number | null;
  waited_for: number;
}

export interface BuildsTable {
  id: Generated<number>;
  number: number;
  builderid: number;
  buildrequestid: number;
  workerid: number | null;
  masterid: number;
  started_at: number;
  complete_at: number | null;
  state_string: string;
  results: number | null;
}

export interface BuildPropertiesTable {
  id: Generated<number>;
  buildid: number;
  name: string;
  /** JSON-encoded value. */
  value: string;
  source: string;
}

export interface BuildMetricsTable {
  id: Generated<number>;
  buildid: number;
  name: string;
  value: number;
  recorded_at: number;
}

export interface StepsTable {
  id: Generated<number>;
  number: number;
  name: string;
  buildid: number;
  started_at: number | null;
  complete_at: number | null;
  state_string: string;
  results: number | null;
  /** JSON array of {name, url}. */
  urls_json: string;
  hidden: number;
}

export interface LogsTable {
  id: Generated<number>;
  name: string;
  slug: string;
  stepid: number;
  complete: number;
  num_lines: number;
  /** 's' stdio (lines prefixed by stream), 't' text, 'h' html, 'd' deleted by retention. */
  type: string;
  /** 1 when its section markers are in log_section_markers (logs added since 0017). */
  sections_recorded: Generated<number>;
}

export interface LogSectionMarkersTable {
  logid: number;
  line: number;
  /** group, endgroup, folded (`--- `), unfolded (`+++ `). */
  kind: string;
  title: string;
}

export interface LogchunksTable {
  logid: number;
  first_line: number;
  last_line: number;
  content: Uint8Array;
  /** 0 raw UTF-8, 1 zlib — Buildbot's numbering. */
  compressed: number;
}

export interface ApiTokensTable {
  id: Generated<number>;
  username: string;
  name: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  /** JSON array of role names. */
  roles: string;
  created_at: number;
}

/** Changes the schedulers may not have seen yet (see migration 0004). */
export interface UnscheduledChangesTable {
  changeid: number;
  stored_at: number;
}

/** Every change a scheduler put into a buildset (its source stamps name only the newest). */
export interface BuildsetChangesTable {
  buildsetid: number;
  changeid: number;
}

/** One row per ordinary (not bisection) build: what blamelists are computed from. */
export interface BlameBuildsTable {
  buildid: number;
  builderid: number;
  /** JSON array of [codebase, branch] pairs, sorted. */
  branch_key: string;
  number: number;
  buildsetid: number;
  /** 1 once it ended SUCCESS or WARNINGS. */
  passed: Generated<number>;
}

export interface BisectionsTable {
  id: Generated<number>;
  buildid: number;
  builderid: number;
  state: string;
  first_bad_changeid: number | null;
  summary: string;
  /** JSON array of ranked suspects. */
  suspects: string;
  /** JSON array of the bisection builds and their results. */
  evidence: string;
  started_at: number;
  complete_at: number | null;
}

/** One remembered value of a scheduler (the keys: schedulers/change-scheduler.ts, schedulers/timed.ts). */
export interface SchedulerStateTable {
  scheduler: string;
  key: string;
  /** JSON. */
  value_json: string;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the session cookie; the cookie itself is never stored. */
  id_hash: string;
  username: string;
  csrf_token: string;
  /** JSON array of role names from an OIDC provider; null for the config's users. */
  external_roles: string | null;
  /** Epoch seconds. */
  expires_at: number;
}

export interface ChangeSourceStateTable {
  source: string;
  key: string;
  /** JSON. */
  value_json: string;
}

/** The reporters' outbox (db/migrations/0009-reporters.ts). */
export interface ReportEventsTable {
  id: Generated<number>;
  kind: string;
  subject_id: number;
  at: number;
  /** JSON object. */
  details: string;
}

export interface ReporterStateTable {
  id: Generated<number>;
  name: string;
  cursor: number;
  delivered: Generated<number>;
  failed_attempts: Generated<number>;
  last_error: string | null;
  last_error_at: number | null;
  last_delivered_at: number | null;
}

/** The IRC bot's `notify on` subscriptions (data/irc-subscriptions.ts). */
export interface IrcSubscriptionsTable {
  id: Generated<number>;
  reporter: string;
  nick_key: string;
  nick: string;
  events: string;
}

export interface WorkerPresenceTable {
  name: string;
  last_seen: number;
  reported: Generated<number>;
}

/** Who runs a scheduler or change source among several masters (data/leases.ts). */
export interface LeasesTable {
  name: string;
  masterid: number;
  acquired_at: number;
  expires_at: number;
}

/** A latent worker's state for the data API (data/latent-workers.ts). */
export interface LatentWorkersTable {
  workerid: number;
  masterid: number;
  state: string;
  last_start_error: string | null;
  last_start_error_at: number | null;
  missing: Generated<number>;
  next_start_at: number | null;
  idle_stop_at: number | null;
}

/** A configured scheduler, who runs it and its times (data/scheduler-records.ts). */
export interface SchedulersTable {
  id: Generated<number>;
  name: string;
  kind: string;
  /** JSON array of strings. */
  builder_names: string;
  enabled: Generated<number>;
  masterid: number | null;
  next_run_at: number | null;
  last_run_at: number | null;
  reason_required: number | null;
  any_properties: number | null;
  /** JSON array: a force scheduler's parameters. */
  parameters: string | null;
}

/** A configured change source, who runs it and what it last did (data/scheduler-records.ts). */
export interface ChangesourcesTable {
  id: Generated<number>;
  name: string;
  kind: string;
  enabled: Generated<number>;
  masterid: number | null;
  last_poll_at: number | null;
  last_change_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

/** An event a master published, for the other masters (cluster/outbox-relay.ts). */
export interface MqOutboxTable {
  id: Generated<number>;
  masterid: number;
  /** The bus event kind (`build.started`). */
  kind: string;
  /** JSON: the bus event's payload. */
  payload: string;
  created_at: number;
}

/** A test a builder's Test steps reported, with its list figures and quarantine (data/test-history.ts). */
export interface TestsTable {
  id: Generated<number>;
  builderid: number;
  name: string;
  last_outcome: string;
  last_buildid: number;
  last_run_at: number;
  runs: Generated<number>;
  failures: Generated<number>;
  flaky_failures: Generated<number>;
  flaky_until: number | null;
  passes_since_flaky: Generated<number>;
  muted_by: string | null;
  muted_at: number | null;
  muted_reason: string | null;
}

/** One test's outcome in one step run. */
export interface TestRunsTable {
  id: Generated<number>;
  testid: number;
  builderid: number;
  buildid: number;
  stepid: number;
  outcome: string;
  revision: string | null;
  recorded_at: number;
  contradicted: Generated<number>;
  muted: Generated<number>;
}

/** Markdown a step attached to its build (data/annotations.ts). */
export interface AnnotationsTable {
  id: Generated<number>;
  buildid: number;
  stepid: number;
  title: string;
  style: string;
  markdown: string;
  created_at: number;
}

export interface Database {
  masters: MastersTable;
  workers: WorkersTable;
  connected_workers: ConnectedWorkersTable;
  configured_workers: ConfiguredWorkersTable;
  builders: BuildersTable;
  builder_masters: BuilderMastersTable;
  patches: PatchesTable;
  sourcestamps: SourcestampsTable;
  changes: ChangesTable;
  change_files: ChangeFilesTable;
  change_properties: ChangePropertiesTable;
  unscheduled_changes: UnscheduledChangesTable;
  buildsets: BuildsetsTable;
  buildset_sourcestamps: BuildsetSourcestampsTable;
  buildset_properties: BuildsetPropertiesTable;
  buildrequests: BuildrequestsTable;
  builds: BuildsTable;
  build_properties: BuildPropertiesTable;
  build_metrics: BuildMetricsTable;
  steps: StepsTable;
  logs: LogsTable;
  logchunks: LogchunksTable;
  log_section_markers: LogSectionMarkersTable;
  api_tokens: ApiTokensTable;
  buildset_changes: BuildsetChangesTable;
  blame_builds: BlameBuildsTable;
  bisections: BisectionsTable;
  scheduler_state: SchedulerStateTable;
  change_source_state: ChangeSourceStateTable;
  sessions: SessionsTable;
  report_events: ReportEventsTable;
  reporter_state: ReporterStateTable;
  worker_presence: WorkerPresenceTable;
  leases: LeasesTable;
  mq_outbox: MqOutboxTable;
  tests: TestsTable;
  test_runs: TestRunsTable;
  annotations: AnnotationsTable;
  irc_subscriptions: IrcSubscriptionsTable;
  latent_workers: LatentWorkersTable;
  schedulers: SchedulersTable;
  changesources: ChangesourcesTable;
}
