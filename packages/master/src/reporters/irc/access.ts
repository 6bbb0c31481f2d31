// Who may force and stop builds through the bot: the `allow` option maps nicks and
// hostmask globs to actions. Everyone may read; nobody may act unless listed.
import type { IrcAction } from './options.js';

/** Whom a message came from, as the server tells it. */
export interface IrcSender {
  readonly nick: string;
  readonly ident: string;
  readonly hostname: string;
}

/** IRC's default case mapping (rfc1459): `[]\~` are the upper case of `{}|^`. */
export function ircLower(text: string): string {
  return text.toLowerCase().replace(/[[\]\\~]/g, (c) => ({ '[': '{', ']': '}', '\\': '|', '~': '^' })[c]!);
}

function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

interface Rule {
  /** Matched against the nick alone, or the whole `nick!ident@host` when it has `!` or `@`. */
  readonly hostmask: boolean;
  readonly pattern: RegExp;
  readonly actions: ReadonlySet<IrcAction>;
}

export class AccessList {
  readonly #rules: Rule[];

  constructor(allow: ReadonlyMap<string, ReadonlySet<IrcAction>>) {
    this.#rules = [...allow].map(([mask, actions]) => ({
      hostmask: mask.includes('!') || mask.includes('@'),
      pattern: globToRegExp(ircLower(mask)),
      actions,
    }));
  }

  may(sender: IrcSender, action: IrcAction): boolean {
    const nick = ircLower(sender.nick);
    const full = `${nick}!${ircLower(sender.ident)}@${ircLower(sender.hostname)}`;
    return this.#rules.some((r) => r.actions.has(action) && r.pattern.test(r.hostmask ? full : nick));
  }
}
