// `lathe quickstart`: from nothing to a finished first build. Creates a master directory
// (unless there is one), starts the master, creates and starts a local worker with
// @lathe/worker's `lathe-worker` CLI, forces the sample builder and prints the result.
// Everything keeps running afterwards; the last lines say how to stop it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isAlive, readPid } from '@lathe/daemon';
import { loadConfig } from '../../config/loader.js';
import { DEFAULT_WWW_PORT } from '../../config/www.js';
import type { MasterStatus } from '../../control/protocol.js';
import { DEFAULT_CONFIG_FILE } from '../../master.js';
import { openControl } from '../control-client.js';
import { runningMasterPid } from '../daemon/master-process.js';
import { type MasterDir, masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT, type Io, seconds } from '../usage.js';
import { createMaster, workerPortOption } from './create-master.js';
import { forceBuild } from './force.js';
import { startDaemon } from './start.js';

const DEFAULT_DIR = 'lathe-quickstart';
/** The worker's own `start` already waits for its connection; this is a short recheck. */
const WORKER_CONNECT_MS = 3_000;
const mainScript = fileURLToPath(new URL('../main.js', import.meta.url));

const help = `Usage: lathe quickstart [options] [dir]

The first command to run: sets up a master in dir (default ./${DEFAULT_DIR}) with
a sample configuration, starts it, creates and starts a local worker in
dir/worker, runs a first build of the sample project and prints its result.
The master and the worker keep running afterwards.

The worker is run with @lathe/worker's lathe-worker command (or the script
named by $LATHE_WORKER_CLI).

Options:
  --worker-port <port> port for workers, when creating the master (default 9989)
  --www-port <port>    port of the web UI and data API (HTTP), when creating the master (default 8010)
  --timeout <seconds>  how long to wait for the first build (default 300)
  -h, --help           show this help
`;

/**
 * The worker CLI: $LATHE_WORKER_CLI if set, else the installed @lathe/worker, else the one
 * built next to us in the repository.
 */
export function findWorkerCli(): string | undefined {
  const override = process.env.LATHE_WORKER_CLI;
  if (override) return existsSync(override) ? override : undefined;
  const candidates: string[] = [];
  try {
    candidates.push(join(dirname(createRequire(import.meta.url).resolve('@lathe/worker')), 'cli.js'));
  } catch {
    // not installed (or not built): try the repository layout
  }
  candidates.push(fileURLToPath(new URL('../../../../../worker/dist/src/cli.js', import.meta.url)));
  return candidates.find((c) => existsSync(c));
}

/**
 * Runs the worker CLI with inherited stdio: the worker's own messages reach the user, and no
 * pipe of ours can keep its daemon's start-up waiting. With `captureOut`, stdout is kept
 * instead (for a command whose advice would be wrong here) and shown only on failure.
 */
function runNode(script: string, args: string[], captureOut = false): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['inherit', captureOut ? 'pipe' : 'inherit', 'inherit'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('close', (code) => {
      if (code !== EXIT.OK && out !== '') process.stdout.write(out);
      resolve(code ?? EXIT.FAILED);
    });
    child.on('error', () => resolve(EXIT.FAILED));
  });
}

export const quickstartCommand: Command = {
  help,
  summary: 'set up and start a master and a local worker, run a first build',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'worker-port': { type: 'string' },
        'www-port': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    const dir = masterDir(positionals.length === 0 ? DEFAULT_DIR : atMostOneDir(positionals, help));
    const timeoutMs = seconds(values.timeout, 300, '--timeout', help) * 1000;
    const rel = relative(process.cwd(), dir.basedir) || '.';
    const workerCli = findWorkerCli();
    if (!workerCli) {
      io.err(
        'lathe quickstart: the local worker needs the lathe-worker command of @lathe/worker ' +
          '(packages/worker/dist/src/cli.js), which is not built or installed here.\n' +
          'Build it (./dev npm run build) or install @lathe/worker; nothing was started.',
      );
      return EXIT.FAILED;
    }

    if (!existsSync(join(dir.basedir, DEFAULT_CONFIG_FILE))) {
      const port = values['worker-port'];
      const wwwPort = values['www-port'];
      await createMaster(dir.basedir, {
        ...(port === undefined ? {} : { workerPort: workerPortOption(port, help) }),
        wwwPort: wwwPort === undefined ? DEFAULT_WWW_PORT : workerPortOption(wwwPort, help, '--www-port'),
      });
      io.out(`created a master in ${rel} (configuration: ${join(rel, DEFAULT_CONFIG_FILE)})`);
    } else io.out(`using the master in ${rel}`);
    const { config } = await loadConfig(join(dir.basedir, DEFAULT_CONFIG_FILE));
    if (config.workerPort.port === 0) {
      io.err(
        `lathe quickstart: ${DEFAULT_CONFIG_FILE} sets workerPort to 0; the local worker needs a fixed port`,
      );
      return EXIT.FAILED;
    }
    const worker = config.workers[0];
    const builder = config.builders.find((b) => worker && b.workerNames.includes(worker.name));
    if (!worker || !builder) {
      io.err(`lathe quickstart: ${DEFAULT_CONFIG_FILE} needs a worker and a builder that uses it`);
      return EXIT.FAILED;
    }

    const pid = runningMasterPid(dir.pidFile);
    if (pid === undefined) {
      const started = await startDaemon(dir, {}, io);
      if (started !== EXIT.OK) return started;
    } else io.out(`the master is already running (pid ${pid})`);

    const workerDir = join(dir.basedir, 'worker');
    const host = config.workerPort.host ?? '127.0.0.1';
    if (!existsSync(join(workerDir, 'worker.json'))) {
      const masterAddress = `${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.workerPort.port}`;
      // Its output ends "then run: lathe-worker start …", which we do next ourselves.
      const created = await runNode(
        workerCli,
        // The password is the user's to choose (it is in master.config.ts) and may start with '-'.
        ['create', '--', workerDir, masterAddress, worker.name, worker.password],
        true,
      );
      if (created !== EXIT.OK) {
        io.err('lathe quickstart: creating the local worker failed (see above)');
        return EXIT.FAILED;
      }
      io.out(
        `created a local worker ${JSON.stringify(worker.name)} in ${join(rel, 'worker')}, connecting to ${masterAddress}`,
      );
    }
    const workerPid = readPid(join(workerDir, 'worker.pid'));
    if (workerPid === undefined || !isAlive(workerPid)) {
      const started = await runNode(workerCli, ['start', workerDir]);
      if (started !== EXIT.OK) {
        io.err(
          `lathe quickstart: the local worker did not connect to the master on port ${config.workerPort.port} ` +
            `(see ${join(workerDir, 'worker.log')} and ${dir.logFile}).`,
        );
        io.out(`\nThe master keeps running; stop it with: lathe stop ${rel}`);
        return EXIT.FAILED;
      }
    }

    if (!(await workerConnected(dir, worker.name, WORKER_CONNECT_MS)))
      io.out(
        `note: the worker ${JSON.stringify(worker.name)} has not connected to the master yet; ` +
          `the build waits for it (see ${join(workerDir, 'worker.log')})`,
      );
    io.out(`forcing a build of ${JSON.stringify(builder.name)}:`);
    const result = await forceBuild(
      dir,
      { builder: builder.name, reason: 'lathe quickstart', wait: true, timeoutMs, requireRunner: true },
      io,
    );
    if (config.www) {
      const host = config.www.host === '0.0.0.0' ? '127.0.0.1' : config.www.host;
      io.out(`\nThe web UI: http://${host}:${config.www.port}/`);
      io.out(`The data API: http://${host}:${config.www.port}/api/v2/ (try /api/v2/builders)`);
    }
    printStop(io, rel, workerCli);
    return result;
  },
};

/** Polls the master's status until the worker is connected or `ms` have passed. */
async function workerConnected(dir: MasterDir, name: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  const session = await openControl(dir);
  try {
    for (;;) {
      const st = await session.avatar.callRemote<MasterStatus>('status');
      if (st.workers.some((w) => w.name === name && w.connected)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    session.close();
  }
}

function printStop(io: Io, rel: string, workerCli: string): void {
  const worker = relative(process.cwd(), workerCli);
  io.out(`
The master and the worker keep running ('lathe' is ${relative(process.cwd(), mainScript)}; ./dev npx lathe in the repository).
  status:        lathe status ${rel}
  another build: lathe force sample --dir ${rel}
  stop both:     lathe stop ${rel} && node ${worker} stop ${join(rel, 'worker')}`);
}
