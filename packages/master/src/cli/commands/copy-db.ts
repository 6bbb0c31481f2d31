import { openDatabase } from '../../db/connection.js';
import { copyDatabase } from '../../db/copy.js';
import { type Command, EXIT, positionalsUnlessHelp, UsageError } from '../usage.js';

const help = `Usage: lathe copy-db <from-url> <to-url>

Copies a whole installation's database into another one, every table and id, e.g.
from SQLite to PostgreSQL:

  lathe copy-db sqlite:master/state.sqlite postgres://lathe:pw@dbhost/lathe

The target must hold no data (it is brought to the current schema first); the
source must be at the current schema (lathe upgrade-master) and its master
stopped. The copy is one transaction: if it fails, the target stays empty.
Then set db: { url: '<to-url>' } in master.config.ts. Relative SQLite paths are
taken from the current directory.

Options:
  -h, --help   show this help
`;

export const copyDbCommand: Command = {
  help,
  summary: 'copy the whole database to another (SQLite to PostgreSQL)',
  async run(argv, io) {
    const positionals = positionalsUnlessHelp(argv, io, help);
    if (!positionals) return EXIT.OK;
    if (positionals.length !== 2) throw new UsageError('expected a source and a target database URL');
    const from = openDatabase({ url: positionals[0]! });
    const to = openDatabase({ url: positionals[1]! });
    try {
      io.out(`copying ${from.location} to ${to.location}`);
      const report = await copyDatabase(from, to, (table, rows) => io.out(`  ${table}: ${rows} rows`));
      const total = report.tables.reduce((n, t) => n + t.rows, 0);
      io.out(`copied ${total} rows in ${report.tables.length} tables`);
      return EXIT.OK;
    } finally {
      await from.close();
      await to.close();
    }
  },
};
