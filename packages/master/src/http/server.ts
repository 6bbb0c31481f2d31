// The data API served by a master (a Service, like the worker port): the in-process
// message queue fed from the master's bus, and the HTTP server on `www.port`.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { DataApi } from '../api/data-api.js';
import { bridgeBusToQueue } from '../api/mq/bridge.js';
import { InProcessQueue } from '../api/mq/in-process.js';
import { bridgeOutboxToQueue, CLUSTER_STREAM, outboxHistory } from '../api/mq/outbox-bridge.js';
import { hookSecrets } from '../changes/hooks/config.js';
import { changeHooksPlugin } from '../changes/hooks/plugin.js';
import { DEFAULT_WWW_HOST } from '../config/www.js';
import { DEFAULT_AUTH } from '../config/www-auth.js';
import type { StopRunningBuild } from '../control/build-actions.js';
import type { Master } from '../master.js';
import { SecretManager } from '../properties/secrets.js';
import type { Service } from '../service.js';
import { API_PREFIX, buildApiApp } from './app.js';

export interface ApiServerOptions {
  /** Default: the config's `www.port` and `www.host`. */
  readonly port?: number;
  readonly host?: string;
  /** Default: the config's `www.baseURL` (the web UI's path comes from it). */
  readonly baseURL?: string;
  /** Messages kept for resuming subscribers; default 10,000. */
  readonly history?: number;
  readonly log?: (line: string) => void;
  /** Stops a build this master runs (the build runner's); without it, `stop` actions are refused. */
  readonly stopBuild?: StopRunningBuild;
}

export class ApiServer implements Service {
  readonly name = 'data API (HTTP)';
  #app: FastifyInstance | null = null;
  #bridge: { unsubscribe(): void } | null = null;
  #api: DataApi | null = null;
  #queue: InProcessQueue | null = null;

  constructor(private readonly options: ApiServerOptions = {}) {}

  get api(): DataApi {
    if (!this.#api) throw new Error('data API: not started');
    return this.#api;
  }

  get queue(): InProcessQueue {
    if (!this.#queue) throw new Error('data API: not started');
    return this.#queue;
  }

  /** Whether it serves (the config has `www`, or the options name a port). */
  get listening(): boolean {
    return this.#app !== null;
  }

  /** The port it listens on (the real one when configured as 0). */
  get port(): number {
    const address = this.#app?.server.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('data API: not listening');
    return address.port;
  }

  /** Serves when the config has `www` or the options name a port; otherwise does nothing. */
  async start(master: Master): Promise<void> {
    const www = master.config.www;
    const port = this.options.port ?? www?.port;
    if (port === undefined) return;
    const host = this.options.host ?? www?.host ?? DEFAULT_WWW_HOST;
    const api = new DataApi(master.data);
    const log = this.options.log ?? (() => {});
    // With several masters every message is numbered by the outbox (api/mq/outbox-bridge.ts).
    const relay = master.relay;
    const queue = new InProcessQueue({
      history: this.options.history ?? 10_000,
      onHandlerError: (err) => log(`data API: realtime subscriber failed: ${String(err)}`),
      ...(relay && {
        stream: CLUSTER_STREAM,
        startSeq: relay.lastSeen,
        durable: outboxHistory(master.data, api),
      }),
    });
    const bridge = relay
      ? bridgeOutboxToQueue(relay, api, queue, {
          onError: (err) => log(`data API: an event of the outbox failed: ${String(err)}`),
        })
      : bridgeBusToQueue(master.bus, api, queue);
    // Where people reach the master (a reconfig may change it): the web UI's path, OIDC's redirect URI.
    const publicURL = () => this.options.baseURL ?? master.config.www?.baseURL ?? master.config.buildbotURL;
    const app = await buildApiApp({
      api,
      queue,
      log,
      webApp: { baseURL: publicURL() },
      // Read on each request: a reconfig's users and roles apply at once.
      auth: () => master.config.www?.auth ?? DEFAULT_AUTH,
      secureCookies: publicURL().startsWith('https:'),
      baseURL: publicURL,
      actions: { master, log, ...(this.options.stopBuild ? { stopBuild: this.options.stopBuild } : {}) },
    });
    try {
      if (www?.changeHooks && Object.keys(www.changeHooks).length > 0) {
        const hooks = await hookSecrets(www.changeHooks, new SecretManager(master.config.secretsProviders));
        await app.register(changeHooksPlugin, { hooks, addChange: (c) => master.addChange(c), log });
      }
      await app.listen({ port, host });
    } catch (err) {
      bridge.unsubscribe();
      await app.close();
      throw err;
    }
    this.#api = api;
    this.#queue = queue;
    this.#bridge = bridge;
    this.#app = app;
    log(`web UI and data API listening on http://${host}:${this.port}/ (API under ${API_PREFIX}/)`);
  }

  async stop(): Promise<void> {
    this.#bridge?.unsubscribe();
    this.#bridge = null;
    await this.#app?.close();
    this.#app = null;
  }
}
