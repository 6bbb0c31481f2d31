// `lathe cancel-request`: cancel one build request through the running master (Buildbot's
// "cancel" on a build request): a pending one completes CANCELLED; one whose build already
// runs has that build stopped.
import { parseArgs } from 'node:util';
import type { CancelRequestResult } from '../../control/protocol.js';
import { masterDir } from '../masterdir.js';
import { type Command, EXIT, UsageError } from '../usage.js';
import { callMaster } from './call-master.js';
import { positiveInteger } from './positive-integer.js';

const help = `Usage: lathe cancel-request [options] <buildrequestid>

Cancels a build request (the ids are in 'lathe status'). A request that waits
completes CANCELLED and never builds; one whose build already runs has that
build stopped (it ends CANCELLED with the reason in its state).

Options:
  -d, --dir <dir>        the master directory (default: the current directory)
  -r, --reason <text>    why (logged by the master, and the state of a stopped build)
  -h, --help             show this help
`;

export const cancelRequestCommand: Command = {
  help,
  summary: 'cancel a pending build request (or stop its build)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string', short: 'd' },
        reason: { type: 'string', short: 'r' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length !== 1)
      throw new UsageError(`needs exactly one build request id, got ${positionals.length} arguments`);
    const id = positiveInteger(positionals[0]!, 'the build request id', help);
    const reason = values.reason ?? `cancelled by ${process.env.USER ?? 'someone'} with lathe cancel-request`;
    return callMaster(masterDir(values.dir ?? '.'), 'cancel-request', io, async (avatar) => {
      const r = await avatar.callRemote<CancelRequestResult>('cancelRequest', id, reason);
      io.out(
        r.outcome === 'cancelled'
          ? `build request ${id} for ${r.builder} cancelled: ${reason}`
          : `build request ${id} for ${r.builder} was building: stopping build #${r.number}: ${reason}`,
      );
      return EXIT.OK;
    });
  },
};
