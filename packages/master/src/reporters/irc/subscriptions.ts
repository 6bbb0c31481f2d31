// Per-user state the bot keeps: who asked to be notified of what (`notify`), and who waits
// for which build (`watch`, and the requester of a forced build). All of it is bounded, so
// a crowd of users (or one user with many nicks) cannot grow the master's memory.
import type { Report } from '../report.js';
import { ircLower } from './access.js';

export const NOTIFY_EVENTS = [
  'started',
  'finished',
  'success',
  'warnings',
  'failure',
  'exception',
  'cancelled',
  'problem',
  'recovery',
  'worker',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** What `notify on` without events subscribes to. */
export const DEFAULT_NOTIFY_EVENTS: readonly NotifyEvent[] = ['finished'];

const RESULT_EVENTS: Readonly<Record<number, NotifyEvent>> = {
  0: 'success',
  1: 'warnings',
  2: 'failure',
  4: 'exception',
  6: 'cancelled',
};

const passed = (r: number | null) => r === 0 || r === 1;
const failed = (r: number | null) => r === 2 || r === 4;

/** The notify events a report is. */
export function reportEvents(report: Report): Set<NotifyEvent> {
  const events = new Set<NotifyEvent>();
  switch (report.kind) {
    case 'build-started':
      events.add('started');
      break;
    case 'build-finished': {
      const now = report.build.results;
      events.add('finished');
      const byResult = now === null ? undefined : RESULT_EVENTS[now];
      if (byResult) events.add(byResult);
      if (failed(now) && passed(report.previousResults)) events.add('problem');
      if (passed(now) && failed(report.previousResults)) events.add('recovery');
      break;
    }
    case 'buildset-finished': {
      events.add('finished');
      const byResult = RESULT_EVENTS[report.results];
      if (byResult) events.add(byResult);
      break;
    }
    case 'worker-missing':
      events.add('worker');
      break;
  }
  return events;
}

/**
 * Where a bot keeps its `notify` subscriptions across restarts (the master's database,
 * `irc_subscriptions`); without one they live as long as the process.
 */
export interface NotifyStore {
  load(): Promise<readonly { readonly nick: string; readonly events: readonly string[] }[]>;
  /** One user's subscription as it is now; no events: none. */
  save(nickKey: string, nick: string, events: readonly NotifyEvent[]): Promise<void>;
}

export interface Watcher {
  /** Where the answer goes: the channel the user asked in, or the user. */
  readonly replyTo: string;
  readonly nick: string;
}

export interface SubscriptionLimits {
  /** Users with a `notify` subscription. */
  readonly maxSubscribers: number;
  /** Builds (or forced requests) one user may wait for at once. */
  readonly maxWatchesPerUser: number;
  /** Builds and requests waited for, all users together. */
  readonly maxWatches: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxSubscribers: 500,
  maxWatchesPerUser: 5,
  maxWatches: 500,
};

export class TooManyError extends Error {
  override readonly name = 'TooManyError';
}

/** What is waited for: a running build, or a forced request whose build has not started. */
type WatchKey = `build:${number}` | `request:${number}`;

export class Subscriptions {
  /** ircLower(nick) → the nick as given and its events. */
  readonly #notify = new Map<string, { nick: string; events: Set<NotifyEvent> }>();
  readonly #watches = new Map<WatchKey, Watcher[]>();
  #watchCount = 0;

  constructor(private readonly limits: SubscriptionLimits = DEFAULT_SUBSCRIPTION_LIMITS) {}

  /** Adds events to a user's subscription; returns what it is now. */
  notifyOn(nick: string, events: readonly NotifyEvent[]): NotifyEvent[] {
    const key = ircLower(nick);
    let sub = this.#notify.get(key);
    if (!sub) {
      if (this.#notify.size >= this.limits.maxSubscribers)
        throw new TooManyError(`too many users are subscribed already (${this.limits.maxSubscribers})`);
      sub = { nick, events: new Set() };
      this.#notify.set(key, sub);
    }
    for (const e of events) sub.events.add(e);
    return this.notifyEvents(nick);
  }

  /** Removes events (all when none are given); returns what is left. */
  notifyOff(nick: string, events: readonly NotifyEvent[]): NotifyEvent[] {
    const key = ircLower(nick);
    const sub = this.#notify.get(key);
    if (!sub) return [];
    if (events.length === 0) sub.events.clear();
    for (const e of events) sub.events.delete(e);
    if (sub.events.size === 0) this.#notify.delete(key);
    return this.notifyEvents(nick);
  }

  /**
   * Puts back stored subscriptions (at start, before any command). Events this version does
   * not know are dropped, and subscribers beyond the limit are left out.
   */
  restore(stored: readonly { readonly nick: string; readonly events: readonly string[] }[]): void {
    for (const { nick, events } of stored) {
      const known = events.filter((e): e is NotifyEvent => (NOTIFY_EVENTS as readonly string[]).includes(e));
      if (known.length === 0 || this.#notify.size >= this.limits.maxSubscribers) continue;
      this.#notify.set(ircLower(nick), { nick, events: new Set(known) });
    }
  }

  notifyEvents(nick: string): NotifyEvent[] {
    const events = this.#notify.get(ircLower(nick))?.events;
    return NOTIFY_EVENTS.filter((e) => events?.has(e));
  }

  /** The nicks to tell about a report. */
  subscribersOf(report: Report): string[] {
    const events = reportEvents(report);
    return [...this.#notify.values()]
      .filter((s) => [...s.events].some((e) => events.has(e)))
      .map((s) => s.nick);
  }

  watchBuild(buildid: number, watcher: Watcher): void {
    this.#add(`build:${buildid}`, watcher);
  }

  watchRequest(buildrequestid: number, watcher: Watcher): void {
    this.#add(`request:${buildrequestid}`, watcher);
  }

  /** A forced request's build started: its watchers now wait for the build. */
  requestStarted(buildrequestid: number, buildid: number): void {
    const watchers = this.#take(`request:${buildrequestid}`);
    for (const w of watchers) this.#add(`build:${buildid}`, w);
  }

  /** The request completed before a build started for it (cancelled): who waited for it. */
  requestCompleted(buildrequestid: number): Watcher[] {
    return this.#take(`request:${buildrequestid}`);
  }

  /** The build finished: who waited for it (they wait no more). */
  buildFinished(buildid: number): Watcher[] {
    return this.#take(`build:${buildid}`);
  }

  #add(key: WatchKey, watcher: Watcher): void {
    const list = this.#watches.get(key) ?? [];
    if (list.some((w) => ircLower(w.nick) === ircLower(watcher.nick) && w.replyTo === watcher.replyTo))
      return;
    const nick = ircLower(watcher.nick);
    let mine = 0;
    for (const ws of this.#watches.values()) for (const w of ws) if (ircLower(w.nick) === nick) mine++;
    if (mine >= this.limits.maxWatchesPerUser)
      throw new TooManyError(
        `you already wait for ${mine} builds (at most ${this.limits.maxWatchesPerUser})`,
      );
    if (this.#watchCount >= this.limits.maxWatches)
      throw new TooManyError(`the bot already waits for ${this.#watchCount} builds`);
    list.push(watcher);
    this.#watches.set(key, list);
    this.#watchCount++;
  }

  #take(key: WatchKey): Watcher[] {
    const list = this.#watches.get(key) ?? [];
    this.#watches.delete(key);
    this.#watchCount -= list.length;
    return list;
  }
}
