// `lathe stop-build`: stop one running build through the running master (Buildbot's "stop"
// on a build). The build ends CANCELLED; its state string names the reason.
import { parseArgs } from 'node:util';
import type { StopBuildResult } from '../../control/protocol.js';
import { masterDir } from '../masterdir.js';
import { type Command, EXIT, UsageError } from '../usage.js';
import { callMaster } from './call-master.js';
import { positiveInteger } from './positive-integer.js';

const help = `Usage: lathe stop-build [options] <builder> <number>
       lathe stop-build [options] --id <buildid>

Stops a running build: its running command is interrupted, only steps marked
alwaysRun still run, and the build ends CANCELLED with the reason in its state
("cancelled: <reason>").

Options:
  -d, --dir <dir>        the master directory (default: the current directory)
  --id <buildid>         name the build by its id instead of builder and number
  -r, --reason <text>    why (recorded with the build; default "stopped by $USER with lathe stop-build")
  -h, --help             show this help
`;

export const stopBuildCommand: Command = {
  help,
  summary: 'stop one running build',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string', short: 'd' },
        id: { type: 'string' },
        reason: { type: 'string', short: 'r' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    let which: { buildid: number } | { builder: string; number: number };
    if (values.id !== undefined) {
      if (positionals.length > 0) throw new UsageError('takes either --id or <builder> <number>, not both');
      which = { buildid: positiveInteger(values.id, '--id', help) };
    } else {
      if (positionals.length !== 2)
        throw new UsageError(`needs a builder name and a build number, got ${positionals.length} arguments`);
      which = {
        builder: positionals[0]!,
        number: positiveInteger(positionals[1]!, 'the build number', help),
      };
    }
    const reason = values.reason ?? `stopped by ${process.env.USER ?? 'someone'} with lathe stop-build`;
    return callMaster(masterDir(values.dir ?? '.'), 'stop-build', io, async (avatar) => {
      const r = await avatar.callRemote<StopBuildResult>('stopBuild', which, reason);
      io.out(`stopping build #${r.number} of ${r.builder} (build id ${r.buildid}): ${reason}`);
      return EXIT.OK;
    });
  },
};
