import { parseArgs } from 'node:util';
import { checkConfig } from '../../commands.js';
import { DEFAULT_CONFIG_FILE } from '../../master.js';
import { masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT } from '../usage.js';

const help = `Usage: lathe checkconfig [options] [dir]

Loads, type-checks (tsc) and validates the master's configuration without
starting anything. Problems are printed as file:line: message, one per line.

Options:
  -c, --config <file>  the config file, relative to dir (default ${DEFAULT_CONFIG_FILE})
  -q, --quiet          print nothing when the config is fine
  -h, --help           show this help
`;

export const checkconfigCommand: Command = {
  help,
  summary: 'type-check and validate the configuration',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    const dir = masterDir(atMostOneDir(positionals, help));
    const result = await checkConfig(dir.basedir, values.config ?? DEFAULT_CONFIG_FILE);
    if (!result.ok) {
      for (const p of result.problems) io.err(p);
      io.err(`lathe checkconfig: ${result.problems.length} problem(s) in the configuration`);
      return EXIT.FAILED;
    }
    if (!values.quiet)
      io.out(
        `config OK: ${result.config.workers.length} worker(s), ${result.config.builders.length} builder(s), ` +
          `worker port ${result.config.workerPort.port}`,
      );
    return EXIT.OK;
  },
};
