// `lathe builds [builder]`: the latest builds, of one builder or of all, read through the
// data API (locally from the master directory's `www`, or a remote master with --url).
import { parseArgs } from 'node:util';
import { builderOf } from '../api-client.js';
import { API_OPTIONS, API_OPTIONS_HELP, apiClient, localTime, resultText, took } from '../api-options.js';
import { type Command, EXIT, UsageError } from '../usage.js';
import { positiveInteger } from './positive-integer.js';

const help = `Usage: lathe builds [options] [builder]

Lists the latest builds of <builder> (a name or id), or of every builder,
newest first: number, result (or running), how long, when it started and
its state. Reads the master's data API.

Options:
  -n, --limit <n>      how many (default 20, at most 1000)
${API_OPTIONS_HELP}
`;

export const buildsCommand: Command = {
  help,
  summary: 'list the latest builds (data API)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...API_OPTIONS, limit: { type: 'string', short: 'n' } },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length > 1) throw new UsageError(`takes at most one builder, got ${positionals.length}`);
    const limit = values.limit === undefined ? 20 : positiveInteger(values.limit, '--limit', help);
    if (limit > 1000) throw new UsageError(`--limit is at most 1000, got ${limit}`);
    const api = await apiClient(values);
    const builder = positionals[0] === undefined ? undefined : await builderOf(api, positionals[0]);
    const builds = await api.list(builder ? `/builders/${builder.builderid}/builds` : '/builds', {
      limit: String(limit),
    });
    if (values.json) {
      io.out(JSON.stringify(builds, null, 2));
      return EXIT.OK;
    }
    const names = new Map(
      (builder ? [builder] : await api.list('/builders', { field: ['builderid', 'name'] })).map((b) => [
        b.builderid,
        String(b.name),
      ]),
    );
    if (builds.length === 0) {
      io.out(builder ? `${builder.name} has no builds yet` : 'no builds yet');
      return EXIT.OK;
    }
    for (const b of builds) {
      const name = names.get(b.builderid) ?? `builder ${b.builderid}`;
      io.out(
        [
          `${name} #${b.number}`.padEnd(24),
          resultText(b).padEnd(10),
          took(b).padEnd(8),
          localTime(b.started_at as number),
          ` ${b.state_string}`,
        ].join(' '),
      );
    }
    return EXIT.OK;
  },
};
