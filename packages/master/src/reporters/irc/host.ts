// What the bot's commands need from the master, and the master's implementation of it:
// reads through the data API in process, force and stop through the data API's actions
// (the same code the HTTP API runs: forcing goes through a force scheduler), and build
// events from the bus for `watch`, and the database for `notify` subscriptions.
import { readFileSync } from 'node:fs';
import { type ActionContext, type ActionDecl, ActionParams } from '../../api/actions/index.js';
import { type ApiBody, DataApi, type Resource } from '../../api/data-api.js';
import type { QueryInput } from '../../api/query.js';
import { IrcSubscriptionsData } from '../../data/irc-subscriptions.js';
import type { Master } from '../../master.js';
import { buildUrl } from '../../urls.js';
import type { NotifyStore } from './subscriptions.js';

/** A build starting or finishing, or a request completing, as `watch` follows them. */
export type BuildEvent =
  | {
      readonly kind: 'started';
      readonly buildid: number;
      readonly builderid: number;
      readonly number: number;
      readonly buildrequestid: number;
    }
  | {
      readonly kind: 'finished';
      readonly buildid: number;
      readonly builderid: number;
      readonly number: number;
      readonly results: number;
    }
  | {
      /** A request completed: after its build, or without one (cancelled while waiting). */
      readonly kind: 'request-complete';
      readonly buildrequestid: number;
      readonly builderid: number;
      readonly results: number;
    };

export interface IrcBotHost {
  /** What `GET /api/v2<path>?<query>` answers; throws ApiNotFoundError / QueryError as the API does. */
  read(path: string, query?: QueryInput): Promise<ApiBody>;
  /** Runs a data API action on the resource at `path`, as `user` (who is already allowed to). */
  act(
    action: ActionDecl,
    path: string,
    params: Readonly<Record<string, unknown>>,
    user: string,
  ): Promise<unknown>;
  /** Calls `listener` for every build that starts or finishes and every request that completes; returns the unsubscribe. */
  onBuild(listener: (event: BuildEvent) => void): () => void;
  /** The build's page in the web UI. */
  buildUrl(builderid: number, number: number): string;
  /** What `version` answers. */
  readonly version: string;
  /** Where the bot named `reporter` keeps its `notify` subscriptions; absent: in memory only. */
  notifyStore?(reporter: string): NotifyStore;
}

function lathePackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The host a running master provides. */
export function masterBotHost(master: Master, log: (line: string) => void = () => {}): IrcBotHost {
  const api = new DataApi(master.data);
  const starter = master.options.buildStarter;
  const stopBuild = starter?.stopBuild?.bind(starter);
  const context: ActionContext = { master, log, ...(stopBuild ? { stopBuild } : {}) };
  const version = `Lathe ${lathePackageVersion()} (node ${process.version})`;
  return {
    read: (path, query) => api.get(path, query),
    async act(action, path, params, user) {
      const found = await api.get(path);
      const resource = (found[action.resource] as Resource[])[0]!;
      return action.run(resource, new ActionParams(params), context, user);
    },
    onBuild(listener) {
      const started = master.bus.subscribe(
        'build.started',
        (m) => listener({ kind: 'started', ...m.payload }),
        { name: 'irc: builds started' },
      );
      const finished = master.bus.subscribe(
        'build.finished',
        (m) => listener({ kind: 'finished', ...m.payload }),
        { name: 'irc: builds finished' },
      );
      const completed = master.bus.subscribe(
        'buildrequest.complete',
        (m) => listener({ kind: 'request-complete', ...m.payload }),
        { name: 'irc: requests complete' },
      );
      return () => {
        started.unsubscribe();
        finished.unsubscribe();
        completed.unsubscribe();
      };
    },
    buildUrl: (builderid, number) => buildUrl(master.config.buildbotURL, builderid, number),
    version,
    notifyStore(reporter) {
      const stored = new IrcSubscriptionsData(master.data.ctx);
      return {
        load: () => stored.list(reporter),
        save: (nickKey, nick, events) => stored.save(reporter, nickKey, nick, events),
      };
    },
  };
}
