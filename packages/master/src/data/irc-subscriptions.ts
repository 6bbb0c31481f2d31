// The IRC bot's `notify on` subscriptions, per bot (the reporter's name): the bot keeps them
// in memory to answer quickly and writes each change here, so a restart loses none.
import type { DataContext } from './context.js';

export interface StoredIrcSubscription {
  /** The nick as the user gave it. */
  readonly nick: string;
  readonly events: readonly string[];
}

export class IrcSubscriptionsData {
  constructor(private readonly ctx: DataContext) {}

  /** A bot's subscriptions, oldest first. */
  async list(reporter: string): Promise<StoredIrcSubscription[]> {
    const rows = await this.ctx.db
      .selectFrom('irc_subscriptions')
      .select(['nick', 'events'])
      .where('reporter', '=', reporter)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ nick: r.nick, events: r.events.split(',').filter(Boolean) }));
  }

  /** What one user is subscribed to now; no events deletes the subscription. */
  async save(reporter: string, nickKey: string, nick: string, events: readonly string[]): Promise<void> {
    if (events.length === 0) {
      await this.ctx.db
        .deleteFrom('irc_subscriptions')
        .where('reporter', '=', reporter)
        .where('nick_key', '=', nickKey)
        .execute();
      return;
    }
    const joined = events.join(',');
    await this.ctx.db
      .insertInto('irc_subscriptions')
      .values({ reporter, nick_key: nickKey, nick, events: joined })
      .onConflict((oc) => oc.columns(['reporter', 'nick_key']).doUpdateSet({ nick, events: joined }))
      .execute();
  }
}
