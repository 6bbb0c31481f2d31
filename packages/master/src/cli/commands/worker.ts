// `lathe worker pause|unpause|shutdown <name>`: act on a connected worker through the
// running master's control port (Buildbot's pause, unpause and graceful shutdown).
import { parseArgs } from 'node:util';
import { ConnectionLostError } from '@lathe/pb';
import { WORKER_ACTIONS, type WorkerAction, type WorkerActionResult } from '../../control/protocol.js';
import { openControl, remoteMessage } from '../control-client.js';
import { masterDir } from '../masterdir.js';
import { type Command, EXIT, type Io, UsageError } from '../usage.js';

const help = `Usage: lathe worker [options] <action> <name>

Acts on the connected worker <name> of the running master:

  pause     give the worker no new builds; its running builds go on
  unpause   let the worker take builds again
  shutdown  stop the worker process once its running builds have finished;
            it takes no new builds meanwhile

Options:
  -d, --dir <dir>  the master directory (default: the current directory)
  -h, --help       show this help
`;

const isAction = (a: string): a is WorkerAction => Object.hasOwn(WORKER_ACTIONS, a);

function describe(action: WorkerAction, r: WorkerActionResult): string {
  const who = `worker ${r.name}`;
  switch (action) {
    case 'pause':
      return r.changed
        ? `${who} paused: it takes no new builds` +
            (r.runningBuilds > 0 ? `; its ${r.runningBuilds} running build(s) go on` : '')
        : `${who} was already paused`;
    case 'unpause':
      return r.changed ? `${who} unpaused: it takes builds again` : `${who} was not paused`;
    case 'shutdown':
      if (r.runningBuilds > 0)
        return `${who} will shut down once its ${r.runningBuilds} running build(s) finish; it takes no new builds`;
      return r.changed ? `${who} is shutting down` : `${who} was already shutting down`;
  }
}

async function workerAction(dir: string, action: WorkerAction, name: string, io: Io): Promise<number> {
  const session = await openControl(masterDir(dir));
  try {
    let result: WorkerActionResult;
    try {
      result = await session.avatar.callRemote<WorkerActionResult>(WORKER_ACTIONS[action], name);
    } catch (err) {
      if (err instanceof ConnectionLostError) throw err;
      io.err(`lathe worker: the master refused: ${remoteMessage(err)}`);
      return EXIT.FAILED;
    }
    io.out(describe(action, result));
    return EXIT.OK;
  } finally {
    session.close();
  }
}

export const workerCommand: Command = {
  help,
  summary: 'pause, unpause or shut down a connected worker',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string', short: 'd' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    const [action, name, ...extra] = positionals;
    if (action === undefined || !isAction(action))
      throw new UsageError(
        action === undefined
          ? 'needs an action: pause, unpause or shutdown'
          : `unknown action ${JSON.stringify(action)} (pause, unpause or shutdown)`,
      );
    if (name === undefined || extra.length > 0)
      throw new UsageError(`needs exactly one worker name, got ${positionals.length - 1}`);
    return workerAction(values.dir ?? '.', action, name, io);
  },
};
