// One bot's life on an IRC server, on irc-framework: connect (TLS if asked), register with
// a server password, pick another nick while ours is taken (and take it back later),
// identify to NickServ, join the channels with their keys, and reconnect with growing,
// jittered delays for as long as the reporter runs. What it sends leaves through the flood
// queue; what people say to it comes out of `onMessage`.
import irc, { type Client, type IrcErrorEvent, type MessageEvent } from 'irc-framework';
import type { Clock, ClockTimer } from '../../schedulers/clock.js';
import { type IrcSender, ircLower } from './access.js';
import { LineNotSentError, LineQueue } from './flood.js';
import type { IrcSettings } from './options.js';

/** A message addressed to the bot. */
export interface IncomingMessage {
  readonly sender: IrcSender;
  /** The channel it was said in, or null for a private message. */
  readonly channel: string | null;
  /** The text without the bot's name in front. */
  readonly text: string;
}

export interface IrcConnectionHooks {
  readonly onMessage: (message: IncomingMessage) => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly clock: Clock;
  /** Where irc-framework's own CTCP VERSION answer comes from. */
  readonly version: string;
}

/** How often to try to take our nick back while another client holds it. */
const NICK_REGAIN_MS = 60_000;
const QUIT_WAIT_MS = 2000;

export class IrcConnection {
  readonly #client: Client;
  readonly #queue: LineQueue;
  readonly #joined = new Set<string>();
  /** Why a channel could not be joined (bad key, banned, …), by ircLower(name). */
  readonly #joinErrors = new Map<string, string>();
  #registered = false;
  /** From connect() until irc-framework says the connection closed. */
  #socketOpen = false;
  #closeReason: string | null = null;
  #stopped = true;
  #attempt = 0;
  #reconnectTimer: ClockTimer | null = null;
  #regainTimer: ClockTimer | null = null;
  #closed: (() => void) | null = null;
  #readyWaiters: (() => void)[] = [];

  constructor(
    private readonly settings: IrcSettings,
    private readonly hooks: IrcConnectionHooks,
  ) {
    this.#client = new irc.Client();
    this.#queue = new LineQueue(
      (line) => {
        if (!this.#client.connected) throw new Error('not connected');
        if (line.notice) this.#client.notice(line.target, line.text);
        else this.#client.say(line.target, line.text);
      },
      settings.flood,
      hooks.clock,
    );
    this.#listen();
  }

  /** Registered with the server (and so able to send). */
  get registered(): boolean {
    return this.#registered;
  }

  /** The nick the server knows us by now. */
  get nick(): string {
    return this.#client.user.nick;
  }

  /** Configured channels not joined now, each with why when the server said. */
  missingChannels(): string[] {
    return this.settings.channels
      .filter((c) => !this.#joined.has(ircLower(c.name)))
      .map((c) => {
        const why = this.#joinErrors.get(ircLower(c.name));
        return why ? `${c.name} (${why})` : c.name;
      });
  }

  /** Asks again for channels we are not in (after a kick, a ban lifted, a key fixed). */
  rejoinMissing(): void {
    if (!this.#registered) return;
    for (const c of this.settings.channels)
      if (!this.#joined.has(ircLower(c.name))) this.#client.join(c.name, c.key);
  }

  /** Resolves once registered and in every configured channel (tests and the first report). */
  ready(): Promise<void> {
    if (this.#registered && this.missingChannels().length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  /** Quits (waiting briefly for the server to close) and stops reconnecting. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reconnectTimer?.cancel();
    this.#regainTimer?.cancel();
    this.#queue.clear('the IRC reporter is stopping');
    // Also while the socket is still connecting: it would register behind our back.
    if (this.#socketOpen) {
      const closed = new Promise<void>((resolve) => {
        this.#closed = resolve;
      });
      this.#client.quit('Lathe master stopping');
      const timer = setTimeout(() => this.#closed?.(), QUIT_WAIT_MS);
      await closed;
      clearTimeout(timer);
    }
  }

  /** Sends one line through the flood queue; rejects with LineNotSentError if it cannot. */
  send(target: string, text: string, notice = false): Promise<void> {
    if (!this.#registered) return Promise.reject(new LineNotSentError(`not connected to ${this.#server()}`));
    return this.#queue.send({ target, text, notice });
  }

  #server(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  #connect(): void {
    const s = this.settings;
    this.hooks.log('info', `connecting to ${this.#server()}${s.tls ? ' (TLS)' : ''} as ${s.nick}`);
    this.#socketOpen = true;
    this.#client.connect({
      host: s.host,
      port: s.port,
      nick: s.nick,
      username: s.username,
      gecos: s.realname,
      ...(s.password ? { password: s.password } : {}),
      tls: s.tls,
      rejectUnauthorized: s.tlsVerify,
      // Reconnecting is ours: irc-framework's gives up after a few attempts.
      auto_reconnect: false,
      version: this.hooks.version,
    });
  }

  #scheduleReconnect(): void {
    const { initialDelayMs, maxDelayMs } = this.settings.reconnect;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.#attempt, 30));
    // Jitter: many bots restarted together must not come back in one wave.
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.#attempt++;
    const why = this.#closeReason ? ` (${this.#closeReason})` : '';
    this.hooks.log('warn', `disconnected from ${this.#server()}${why}; reconnecting in ${delay} ms`);
    this.#reconnectTimer = this.hooks.clock.setTimer(() => {
      this.#reconnectTimer = null;
      if (!this.#stopped) this.#connect();
    }, delay);
  }

  #alternativeNick(taken: string): string {
    const base = this.settings.nick;
    if (ircLower(taken) === ircLower(base)) return `${base.slice(0, 29)}_`;
    // nick_, then nick1, nick2, … (kept within the 30 characters most servers allow)
    const n = Number(/(\d+)$/.exec(taken)?.[1] ?? 0) + 1;
    return `${base.slice(0, 30 - String(n).length)}${n}`;
  }

  #settled(): void {
    if (!this.#registered || this.missingChannels().length > 0) return;
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
  }

  #listen(): void {
    const client = this.#client;
    const me = (nick: string) => ircLower(nick) === ircLower(client.user.nick);
    client.on('registered', (event: { nick: string }) => {
      this.#registered = true;
      this.#attempt = 0;
      this.hooks.log('info', `registered on ${this.#server()} as ${event.nick}`);
      if (this.settings.nickservPassword)
        client.raw('PRIVMSG', 'NickServ', `IDENTIFY ${this.settings.nickservPassword}`);
      for (const c of this.settings.channels) client.join(c.name, c.key);
      if (ircLower(event.nick) !== ircLower(this.settings.nick)) this.#regainNickLater();
      this.#settled();
    });
    client.on('nick in use', (event) => {
      // Before registration the server waits for another NICK; afterwards a failed regain is harmless.
      if (this.#registered) return;
      const next = this.#alternativeNick(event.nick);
      this.hooks.log('warn', `nick ${event.nick} is taken on ${this.#server()}; trying ${next}`);
      client.changeNick(next);
    });
    client.on('join', (event) => {
      if (!me(event.nick)) return;
      this.#joined.add(ircLower(event.channel));
      this.#joinErrors.delete(ircLower(event.channel));
      this.#settled();
    });
    const left = (channel: string) => {
      this.#joined.delete(ircLower(channel));
    };
    client.on('part', (event) => {
      if (me(event.nick)) left(event.channel);
    });
    client.on('kick', (event: unknown) => {
      const e = event as { kicked: string; channel: string; message?: string };
      if (!me(e.kicked)) return;
      left(e.channel);
      this.hooks.log('warn', `kicked from ${e.channel}${e.message ? `: ${e.message}` : ''}`);
    });
    client.on('irc error', (event: IrcErrorEvent) => {
      if (
        event.channel &&
        this.settings.channels.some((c) => ircLower(c.name) === ircLower(event.channel!))
      ) {
        this.#joinErrors.set(ircLower(event.channel), event.error);
        this.hooks.log('warn', `${event.channel}: ${event.error}${event.reason ? ` (${event.reason})` : ''}`);
      }
    });
    client.on('privmsg', (event: MessageEvent) => this.#incoming(event));
    // irc-framework tells a socket's error (refused, TLS certificate, …) only here.
    client.on('socket close', (err) => {
      this.#closeReason = err instanceof Error ? err.message : null;
    });
    client.on('close', () => {
      this.#socketOpen = false;
      this.#registered = false;
      this.#joined.clear();
      this.#regainTimer?.cancel();
      this.#queue.clear(`the connection to ${this.#server()} closed`);
      if (this.#stopped) this.#closed?.();
      else this.#scheduleReconnect();
    });
  }

  /** Asks for our nick every so often until we have it (the server says no while it is taken). */
  #regainNickLater(): void {
    this.#regainTimer?.cancel();
    this.#regainTimer = this.hooks.clock.setTimer(() => {
      if (!this.#registered || ircLower(this.nick) === ircLower(this.settings.nick)) return;
      this.#client.changeNick(this.settings.nick);
      this.#regainNickLater();
    }, NICK_REGAIN_MS);
  }

  #incoming(event: MessageEvent): void {
    const client = this.#client;
    if (!event.nick || ircLower(event.nick) === ircLower(client.user.nick)) return;
    const sender = { nick: event.nick, ident: event.ident ?? '', hostname: event.hostname ?? '' };
    const isPrivate = ircLower(event.target) === ircLower(client.user.nick);
    const addressed = new RegExp(`^\\s*${escapeRegExp(client.user.nick)}\\s*[:,]?\\s+(.*)$`, 'is').exec(
      event.message,
    );
    if (isPrivate) this.hooks.onMessage({ sender, channel: null, text: addressed?.[1] ?? event.message });
    else if (addressed) this.hooks.onMessage({ sender, channel: event.target, text: addressed[1]! });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
