// A plain IRC client for the bot's tests, on a raw socket (not the bot's library, so the
// two cannot agree on a mistake): registers, joins, talks, and keeps every PRIVMSG and
// NOTICE it receives so a test can wait for the one it expects.
import { connect, type Socket } from 'node:net';

export interface ReceivedMessage {
  readonly from: string;
  /** The channel, or our nick for a private message. */
  readonly target: string;
  readonly text: string;
  readonly notice: boolean;
}

export class TestIrcClient {
  readonly received: ReceivedMessage[] = [];
  readonly #socket: Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  #lines: string[] = [];

  private constructor(
    socket: Socket,
    readonly nick: string,
  ) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      const lines = this.#buffer.split('\r\n');
      this.#buffer = lines.pop()!;
      for (const line of lines) this.#line(line);
    });
    socket.on('error', () => {});
  }

  /** Connects and registers; resolves on the welcome (001). */
  static async connect(port: number, nick: string, password: string): Promise<TestIrcClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new TestIrcClient(socket, nick);
    client.send(`PASS ${password}`);
    client.send(`NICK ${nick}`);
    client.send(`USER ${nick} 0 * :test client ${nick}`);
    await client.waitForLine((l) => / 001 /.test(l), `${nick} to register`);
    return client;
  }

  send(line: string): void {
    this.#socket.write(`${line}\r\n`);
  }

  say(target: string, text: string): void {
    this.send(`PRIVMSG ${target} :${text}`);
  }

  /** Joins and waits until the server confirms (the end of the names list). */
  async join(channel: string, key?: string): Promise<void> {
    this.send(`JOIN ${channel}${key ? ` ${key}` : ''}`);
    await this.waitForLine(
      (l) => new RegExp(` 366 ${this.nick} ${channel} `, 'i').test(l),
      `${this.nick} to join ${channel}`,
    );
  }

  /** Waits for a received PRIVMSG or NOTICE matching `match`, counting from index `from`. */
  async waitFor(
    match: (m: ReceivedMessage) => boolean,
    what: string,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<ReceivedMessage> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(options.from ?? 0).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${this.nick}: timed out after ${timeoutMs} ms waiting for ${what}; got:\n` +
            this.received.map((m) => `  <${m.from}> ${m.target}: ${m.text}`).join('\n'),
        );
      await this.#next(left);
    }
  }

  /**
   * Says `text` to `target` and waits for the bot's first answer to us after it: a private
   * message, or a channel message starting with our nick (notifications are notices).
   */
  async ask(target: string, bot: string, text: string, match: RegExp = /./): Promise<ReceivedMessage> {
    const from = this.received.length;
    this.say(target, text);
    return this.waitFor(
      (m) =>
        m.from.toLowerCase() === bot.toLowerCase() &&
        !m.notice &&
        (m.target === this.nick || m.text.startsWith(`${this.nick}: `)) &&
        match.test(m.text),
      `an answer to "${text}" matching ${match}`,
      { from },
    );
  }

  async waitForLine(match: (line: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      const found = this.#lines.slice(seen).find(match);
      if (found) return found;
      seen = this.#lines.length;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.nick}: timed out waiting for ${what}; lines:\n${this.#lines.join('\n')}`);
      await this.#next(left);
    }
  }

  async quit(): Promise<void> {
    if (this.#socket.destroyed) return;
    this.send('QUIT :bye');
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      setTimeout(() => {
        this.#socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  #next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #line(line: string): void {
    this.#lines.push(line);
    if (line.startsWith('PING ')) this.send(`PONG ${line.slice(5)}`);
    const m = /^:([^!\s]+)(?:![^\s]*)? (PRIVMSG|NOTICE) (\S+) :(.*)$/.exec(line);
    if (m) this.received.push({ from: m[1]!, target: m[3]!, text: m[4]!, notice: m[2] === 'NOTICE' });
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
