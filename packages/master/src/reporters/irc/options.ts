// What `ircReporter({...})` takes, checked once when the config is loaded so that a typo
// fails `lathe checkconfig` with the option's name instead of a bot that never connects.
import type { Report } from '../report.js';
import { announcement } from './format.js';

/** The line announced for a report (`announcement` by default); line breaks become spaces. */
export type IrcFormatter = (report: Report) => string;

/** What a nick or hostmask may do through the bot, named as the data API's permissions. */
export const IRC_ACTIONS = ['force', 'stop'] as const;
export type IrcAction = (typeof IRC_ACTIONS)[number];

export interface IrcChannel {
  readonly name: string;
  /** The channel key (mode +k), if it has one. */
  readonly key?: string;
}

export interface IrcReporterOptions {
  /** The reporter's name (unique among the config's reporters); default `irc`. */
  readonly name?: string;
  readonly host: string;
  /** Default 6697 with TLS, else 6667. */
  readonly port?: number;
  readonly tls?: boolean;
  /** Check the server's TLS certificate; default true. */
  readonly tlsVerify?: boolean;
  readonly nick: string;
  /** Default the nick. */
  readonly username?: string;
  /** The "real name" others see in WHOIS; default `Lathe build bot`. */
  readonly realname?: string;
  /** The server password (IRC `PASS`). */
  readonly password?: string;
  /** Sent as `IDENTIFY <password>` to NickServ once registered. */
  readonly nickservPassword?: string;
  /** Where reports are announced and commands are taken; `#chan` or `{ name, key }`. */
  readonly channels?: readonly (string | IrcChannel)[];
  /**
   * Who may do what: a nick (`alice`) or a hostmask glob (`*!*@build.example.org`) →
   * actions. Nobody may force or stop builds unless listed; everyone may read. Nicks are
   * only as trustworthy as the network's nick registration: prefer hostmasks.
   */
  readonly allow?: Readonly<Record<string, readonly IrcAction[]>>;
  /** Announce with NOTICE instead of PRIVMSG (bots are expected to; some channels want PRIVMSG). */
  readonly useNotice?: boolean;
  /** Reconnect delays: doubling from `initialDelayMs` (default 1 s) up to `maxDelayMs` (default 5 min), with jitter. */
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /**
   * Flood protection for what the bot sends: `burst` lines at once (default 4), then one
   * per `intervalMs` (default 1000); at most `maxQueued` lines wait (default 200), and at
   * most a quarter of them for one target.
   */
  readonly flood?: { readonly burst?: number; readonly intervalMs?: number; readonly maxQueued?: number };
  /**
   * How often one user (by ident and host) may send commands: `burst` at once (default 3),
   * then one per `intervalMs` (default 3000); more are ignored without an answer.
   */
  readonly commandRate?: { readonly burst?: number; readonly intervalMs?: number };
  /** What a report's announcement says; default `announcement` (format.ts). */
  readonly format?: IrcFormatter;
}

/** The options with their defaults applied. */
export interface IrcSettings {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly tlsVerify: boolean;
  readonly nick: string;
  readonly username: string;
  readonly realname: string;
  readonly password: string | null;
  readonly nickservPassword: string | null;
  readonly channels: readonly IrcChannel[];
  readonly allow: ReadonlyMap<string, ReadonlySet<IrcAction>>;
  readonly useNotice: boolean;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly flood: {
    readonly burst: number;
    readonly intervalMs: number;
    readonly maxQueued: number;
    readonly maxQueuedPerTarget: number;
  };
  readonly commandRate: { readonly burst: number; readonly intervalMs: number };
  readonly format: IrcFormatter;
}

export class IrcOptionsError extends Error {
  override readonly name = 'IrcOptionsError';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`ircReporter: ${option}: ${problem}`);
  }
}

// RFC 2812's nickname characters, a little more lenient on length (servers set their own).
const NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/;
// A channel: a prefix, then anything but space, comma, BEL and NUL (RFC 2812 `chanstring`).
const CHANNEL = /^[#&+!][^\s,\x07\0]{1,49}$/;
// Text that goes on the wire inside one IRC line.
const LINE_SAFE = /^[^\r\n\0]*$/;

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new IrcOptionsError(option, 'must be a positive integer');
  return value;
}

function lineSafe(option: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '' || !LINE_SAFE.test(value))
    throw new IrcOptionsError(option, 'must be a non-empty string without line breaks');
  return value;
}

function channel(entry: string | IrcChannel, i: number): IrcChannel {
  const c = typeof entry === 'string' ? { name: entry } : entry;
  if (typeof c?.name !== 'string' || !CHANNEL.test(c.name))
    throw new IrcOptionsError(
      `channels[${i}]`,
      `${JSON.stringify(c?.name)} is not a channel name (#name, without spaces or commas)`,
    );
  if (c.key === undefined) return { name: c.name };
  if (typeof c.key !== 'string' || !/^[^\s,\0]+$/.test(c.key))
    throw new IrcOptionsError(`channels[${i}].key`, 'must be a non-empty string without spaces or commas');
  return { name: c.name, key: c.key };
}

function allowList(allow: IrcReporterOptions['allow']): Map<string, Set<IrcAction>> {
  const out = new Map<string, Set<IrcAction>>();
  for (const [mask, actions] of Object.entries(allow ?? {})) {
    if (mask === '' || /\s/.test(mask))
      throw new IrcOptionsError(`allow[${JSON.stringify(mask)}]`, 'a nick or hostmask has no spaces');
    if (!Array.isArray(actions))
      throw new IrcOptionsError(
        `allow[${JSON.stringify(mask)}]`,
        `must be a list of ${IRC_ACTIONS.join(', ')}`,
      );
    for (const a of actions)
      if (!IRC_ACTIONS.includes(a))
        throw new IrcOptionsError(
          `allow[${JSON.stringify(mask)}]`,
          `unknown action ${JSON.stringify(a)} (actions: ${IRC_ACTIONS.join(', ')})`,
        );
    out.set(mask, new Set(actions));
  }
  return out;
}

/** Checks the options and applies the defaults; throws IrcOptionsError naming the option. */
export function resolveIrcOptions(options: IrcReporterOptions): IrcSettings {
  if (typeof options !== 'object' || options === null)
    throw new IrcOptionsError('options', 'must be an object');
  if (typeof options.host !== 'string' || options.host === '' || /\s/.test(options.host))
    throw new IrcOptionsError('host', 'must be a host name or address');
  if (typeof options.nick !== 'string' || !NICK.test(options.nick))
    throw new IrcOptionsError('nick', `${JSON.stringify(options.nick)} is not a valid IRC nick`);
  const name = options.name ?? 'irc';
  if (typeof name !== 'string' || name === '')
    throw new IrcOptionsError('name', 'must be a non-empty string');
  const tls = options.tls ?? false;
  const port = positiveInt('port', options.port, tls ? 6697 : 6667);
  if (port > 65535) throw new IrcOptionsError('port', 'must be at most 65535');
  const username = options.username ?? options.nick;
  if (!/^[^\s@\0]+$/.test(username)) throw new IrcOptionsError('username', 'must have no spaces or @');
  const initialDelayMs = positiveInt('reconnect.initialDelayMs', options.reconnect?.initialDelayMs, 1000);
  const maxDelayMs = positiveInt('reconnect.maxDelayMs', options.reconnect?.maxDelayMs, 300_000);
  const maxQueued = positiveInt('flood.maxQueued', options.flood?.maxQueued, 200);
  if (options.format !== undefined && typeof options.format !== 'function')
    throw new IrcOptionsError('format', 'must be a function (report) => string');
  return {
    name,
    host: options.host,
    port,
    tls,
    tlsVerify: options.tlsVerify ?? true,
    nick: options.nick,
    username,
    realname: lineSafe('realname', options.realname) ?? 'Lathe build bot',
    password: lineSafe('password', options.password),
    nickservPassword: lineSafe('nickservPassword', options.nickservPassword),
    channels: (options.channels ?? []).map(channel),
    allow: allowList(options.allow),
    useNotice: options.useNotice ?? false,
    reconnect: { initialDelayMs, maxDelayMs: Math.max(maxDelayMs, initialDelayMs) },
    flood: {
      burst: positiveInt('flood.burst', options.flood?.burst, 4),
      intervalMs: positiveInt('flood.intervalMs', options.flood?.intervalMs, 1000),
      maxQueued,
      maxQueuedPerTarget: Math.max(1, Math.floor(maxQueued / 4)),
    },
    commandRate: {
      burst: positiveInt('commandRate.burst', options.commandRate?.burst, 3),
      intervalMs: positiveInt('commandRate.intervalMs', options.commandRate?.intervalMs, 3000),
    },
    format: options.format ?? announcement,
  };
}
