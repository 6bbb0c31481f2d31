// On PostgreSQL, an outbox append is one round trip: a function that takes the table lock,
// inserts the events in order and notifies the other masters, inside the single statement's
// own transaction. The same steps as separate statements (begin, lock, insert, notify,
// commit) cost five round trips on a path every cross-master hop waits for: a request added
// on one master and built on another, a build's events shown by another master's web UI.
// SQLite has one writer at a time and no notifications; it needs nothing here.
import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { DialectTypes } from './dialect.js';

export function outboxAppendMigration(t: DialectTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (t.name !== 'postgres') return;
      // The lock is why: a sequence value is taken at insert, not at commit, so without it
      // a reader could see id 8 committed before id 7 and step over 7 for ever
      // (data/outbox.ts). Inside a function the lock needs no transaction block of its own.
      await sql`
        create or replace function lathe_outbox_append(
          p_masterid integer, p_kinds text[], p_payloads text[], p_created_at bigint,
          p_channel text, p_notice text
        ) returns void language plpgsql as $fn$
        begin
          lock table mq_outbox in exclusive mode;
          insert into mq_outbox (masterid, kind, payload, created_at)
            select p_masterid, e.kind, e.payload, p_created_at
            from unnest(p_kinds, p_payloads) with ordinality as e(kind, payload, n)
            order by e.n;
          perform pg_notify(p_channel, p_notice);
        end
        $fn$`.execute(db);
    },
  };
}
