// The little of npm `irc-framework` (CommonJS, no bundled types) that the IRC bot and its
// tests use.
declare module 'irc-framework' {
  export interface ClientOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    password?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    auto_reconnect?: boolean;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
    version?: string | null;
  }

  export interface MessageEvent {
    nick: string;
    ident: string;
    hostname: string;
    target: string;
    message: string;
    type?: string;
  }

  export interface NickInUseEvent {
    nick: string;
    reason: string;
  }

  export interface JoinEvent {
    nick: string;
    channel: string;
  }

  export interface IrcErrorEvent {
    error: string;
    channel?: string;
    reason?: string;
  }

  export class Client {
    constructor(options?: Partial<ClientOptions>);
    readonly connected: boolean;
    readonly user: { nick: string };
    connect(options: ClientOptions): void;
    quit(message?: string): void;
    say(target: string, message: string): void;
    notice(target: string, message: string): void;
    join(channel: string, key?: string): void;
    changeNick(nick: string): void;
    raw(...args: string[]): void;
    on(event: 'registered', listener: (event: { nick: string }) => void): this;
    on(event: 'privmsg' | 'notice' | 'message', listener: (event: MessageEvent) => void): this;
    on(event: 'nick in use', listener: (event: NickInUseEvent) => void): this;
    on(event: 'join' | 'part', listener: (event: JoinEvent) => void): this;
    on(event: 'irc error', listener: (event: IrcErrorEvent) => void): this;
    on(event: 'close' | 'socket close', listener: (err?: unknown) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  const irc: { Client: typeof Client };
  export default irc;
}
