// `lathe reconfig`: SIGHUP makes the master reload its config; the outcome comes back over
// the control channel, where the master keeps the result of its latest reconfig.
import { parseArgs } from 'node:util';
import type { ReconfigOutcome } from '../../control/protocol.js';
import { openControl } from '../control-client.js';
import { masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT, seconds } from '../usage.js';

const help = `Usage: lathe reconfig [options] [dir]

Makes the running master of dir re-read its configuration (by sending it SIGHUP)
and reports the outcome. If the new configuration is broken, the master keeps
running with the old one and the problems are printed as file:line: message.

Options:
  --timeout <seconds>  how long to wait for the outcome (default 60)
  -h, --help           show this help
`;

export const reconfigCommand: Command = {
  help,
  summary: 'make the running master reload its configuration',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    const dir = masterDir(atMostOneDir(positionals, help));
    const timeoutMs = seconds(values.timeout, 60, '--timeout', help) * 1000;
    const session = await openControl(dir);
    try {
      const before = await session.avatar.callRemote<ReconfigOutcome>('reconfigState');
      process.kill(session.pid, 'SIGHUP');
      io.out(`sent SIGHUP to the master (pid ${session.pid}); waiting for the reconfig`);
      const outcome = await session.avatar.callRemote<ReconfigOutcome | null>(
        'waitReconfig',
        before.generation,
        timeoutMs,
      );
      if (!outcome) {
        io.err(`lathe reconfig: no outcome within ${timeoutMs / 1000}s; see ${dir.logFile}`);
        return EXIT.FAILED;
      }
      if (outcome.ok) {
        io.out(`reconfig done: ${outcome.summary}`);
        return EXIT.OK;
      }
      io.err(
        'lathe reconfig: the new configuration was rejected; the master keeps running with the old one:',
      );
      for (const p of outcome.problems) io.err(p);
      return EXIT.FAILED;
    } finally {
      session.close();
    }
  },
};
