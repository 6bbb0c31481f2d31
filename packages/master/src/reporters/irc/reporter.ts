// The IRC bot as a reporter: `deliver` announces a report in the configured channels and to
// the users who asked (`notify`, kept in the master's database); the same connection takes
// commands once the master has given the bot its host (`attach`): the reporters framework
// does so as it starts the bot from the config's
// `reporters: [{ reporter: ircReporter({...}), generators: [...] }]`.
import { isResult, resultName } from '../../results.js';
import { type Clock, realClock } from '../../schedulers/clock.js';
import type { DeliveryContext, Report, Reporter, ReporterStartContext } from '../report.js';
import { AccessList, ircLower } from './access.js';
import { BotCommands } from './commands.js';
import { IrcConnection } from './connection.js';
import { LineNotSentError } from './flood.js';
import { type BuildEvent, type IrcBotHost, masterBotHost } from './host.js';
import { type IrcReporterOptions, type IrcSettings, resolveIrcOptions } from './options.js';
import { type NotifyStore, Subscriptions } from './subscriptions.js';
import { UserThrottle } from './throttle.js';

/** Users whose command rate the bot remembers (the least recently seen is forgotten). */
const MAX_THROTTLED_USERS = 1000;

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface IrcReporterDeps {
  /** The reporter's own log (connects, disconnects, refusals); default stderr. Never gets secrets. */
  readonly log?: Log;
  /** The flood queue's and reconnects' timers. */
  readonly clock?: Clock;
}

/** A delivery attempt that found the bot unable to announce: the framework retries it. */
export class IrcNotConnectedError extends Error {
  override readonly name = 'IrcNotConnectedError';
}

export class IrcReporter implements Reporter {
  readonly name: string;
  readonly settings: IrcSettings;
  readonly #connection: IrcConnection;
  readonly #subscriptions = new Subscriptions();
  readonly #throttle: UserThrottle;
  readonly #access: AccessList;
  readonly #log: Log;
  #host: IrcBotHost | null = null;
  #commands: BotCommands | null = null;
  #store: NotifyStore | null = null;
  #restored = false;
  #unsubscribe: (() => void) | null = null;

  constructor(options: IrcReporterOptions, deps: IrcReporterDeps = {}) {
    this.settings = resolveIrcOptions(options);
    this.name = this.settings.name;
    this.#log = deps.log ?? ((level, message) => console.error(`irc ${this.name}: ${level}: ${message}`));
    this.#access = new AccessList(this.settings.allow);
    this.#throttle = new UserThrottle({ ...this.settings.commandRate, maxUsers: MAX_THROTTLED_USERS });
    this.#connection = new IrcConnection(this.settings, {
      onMessage: (m) => this.#onMessage(m.sender, m.channel, m.text),
      log: this.#log,
      clock: deps.clock ?? realClock,
      version: 'Lathe build bot',
    });
  }

  /** Gives the bot what its commands need from the running master; before `start`. */
  attach(host: IrcBotHost): void {
    this.#host = host;
    this.#store = host.notifyStore?.(this.name) ?? null;
    this.#commands = new BotCommands(host, this.#access, this.#subscriptions, this.#log, this.#store);
  }

  /** The nick the bot has now (another than the configured one while that is taken). */
  get nick(): string {
    return this.#connection.nick;
  }

  get connected(): boolean {
    return this.#connection.registered;
  }

  /** Resolves once registered and in every channel. */
  ready(): Promise<void> {
    return this.#connection.ready();
  }

  /**
   * Starts connecting and returns at once: a server that is down must not hold up the master.
   * Started by the reporters framework, it takes its host from the running master.
   */
  async start(context?: ReporterStartContext): Promise<void> {
    if (!this.#host && context?.master) this.attach(masterBotHost(context.master));
    if (this.#host && !this.#unsubscribe) this.#unsubscribe = this.#host.onBuild((e) => this.#onBuild(e));
    // Before the first command can change them (the framework may start a bot again after a failure).
    if (this.#store && !this.#restored) {
      this.#subscriptions.restore(await this.#store.load());
      this.#restored = true;
    }
    this.#connection.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.#connection.stop();
  }

  async deliver(report: Report, context: DeliveryContext): Promise<void> {
    if (!this.#connection.registered)
      throw new IrcNotConnectedError(`not connected to ${this.settings.host}:${this.settings.port}`);
    const missing = this.#connection.missingChannels();
    if (missing.length > 0) {
      this.#connection.rejoinMissing();
      throw new IrcNotConnectedError(`not in ${missing.join(', ')}`);
    }
    // One IRC line, whatever a configured format returns.
    const line = this.settings.format(report).replace(/[\r\n\0]+/g, ' ');
    const notice = this.settings.useNotice;
    const toChannels = Promise.all(
      this.settings.channels.map((c) => this.#connection.send(c.name, line, notice)),
    );
    // Users are told as a courtesy: one who left, or a full queue, does not fail the delivery.
    for (const nick of this.#subscriptions.subscribersOf(report))
      this.#connection.send(nick, line, true).catch(() => {});
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new IrcNotConnectedError('delivery aborted: the reporter is stopping'));
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([toChannels, aborted]);
    } catch (err) {
      if (err instanceof LineNotSentError) throw new IrcNotConnectedError(err.message, { cause: err });
      throw err;
    } finally {
      context.signal.removeEventListener('abort', onAbort);
      aborted.catch(() => {});
    }
  }

  #say(replyTo: string, nick: string | null, lines: readonly string[]): void {
    // In a channel, name whom the answer is for; in a private message there is only one.
    const inChannel = /^[#&+!]/.test(replyTo);
    for (const text of lines)
      this.#connection.send(replyTo, inChannel && nick ? `${nick}: ${text}` : text).catch((err) => {
        this.#log('warn', `answer to ${replyTo} dropped: ${(err as Error).message}`);
      });
  }

  #onMessage(
    sender: { nick: string; ident: string; hostname: string },
    channel: string | null,
    text: string,
  ): void {
    if (!this.#throttle.take(ircLower(`${sender.ident}@${sender.hostname}`))) return;
    const replyTo = channel ?? sender.nick;
    const commands = this.#commands;
    if (!commands) {
      this.#say(replyTo, sender.nick, ['I only announce builds here: the master has not given me commands']);
      return;
    }
    commands.run({ sender, text, replyTo }).then((lines) => this.#say(replyTo, sender.nick, lines));
  }

  #onBuild(event: BuildEvent): void {
    switch (event.kind) {
      case 'started':
        this.#subscriptions.requestStarted(event.buildrequestid, event.buildid);
        return;
      case 'request-complete':
        for (const w of this.#subscriptions.requestCompleted(event.buildrequestid))
          this.#say(w.replyTo, w.nick, [
            `build request ${event.buildrequestid} completed without a build (${this.#result(event.results)})`,
          ]);
        return;
      case 'finished': {
        const watchers = this.#subscriptions.buildFinished(event.buildid);
        if (watchers.length === 0) return;
        this.#builderName(event.builderid).then((name) => {
          const url = this.#host!.buildUrl(event.builderid, event.number);
          const line = `build #${event.number} of ${name} finished: ${this.#result(event.results)} — ${url}`;
          for (const w of watchers) this.#say(w.replyTo, w.nick, [line]);
        });
      }
    }
  }

  #result(r: number): string {
    return isResult(r) ? resultName(r) : String(r);
  }

  async #builderName(builderid: number): Promise<string> {
    try {
      const body = await this.#host!.read(`/builders/${builderid}`, { field: 'name' });
      return String((body.builders as { name: unknown }[])[0]!.name);
    } catch {
      return `builder ${builderid}`;
    }
  }
}

/** The IRC reporter for `reporters: [...]` in master.config.ts; checks its options now. */
export function ircReporter(options: IrcReporterOptions, deps: IrcReporterDeps = {}): IrcReporter {
  return new IrcReporter(options, deps);
}
