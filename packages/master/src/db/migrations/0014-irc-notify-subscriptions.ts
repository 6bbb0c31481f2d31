// The IRC bot's `notify on` subscriptions (reporters/irc/), so a master restart keeps them.
// One row per user (the IRC-lowercased nick) per bot, keyed by the reporter's name.
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function ircNotifySubscriptionsMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await t
        .id(db.schema.createTable('irc_subscriptions'))
        .addColumn('reporter', 'varchar(255)', (c) => c.notNull())
        // ircLower(nick): how the server compares nicks
        .addColumn('nick_key', 'varchar(255)', (c) => c.notNull())
        // the nick as the user gave it, to send to
        .addColumn('nick', 'varchar(255)', (c) => c.notNull())
        // the notify events, comma-separated (started,finished,failure,…)
        .addColumn('events', 'varchar(255)', (c) => c.notNull())
        .addUniqueConstraint('irc_subscriptions_reporter_nick', ['reporter', 'nick_key'])
        .execute();
    },
  };
}
