// `lathe stop`: signal the master and wait until its process is gone.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isAlive, readPid } from '@lathe/daemon';
import { runningMasterPid } from '../daemon/master-process.js';
import { type MasterDir, masterDir } from '../masterdir.js';
import { atMostOneDir, type Command, EXIT, type Io, seconds } from '../usage.js';

const help = `Usage: lathe stop [options] [dir]

Stops the master of dir. By default the stop is graceful: the master starts no
new builds and waits for the running ones to finish (SIGTERM). With --cancel it
cancels them (SIGINT). If the master has not exited after --timeout seconds it
is killed (SIGKILL).

Options:
  --cancel             cancel running builds instead of waiting for them
  --timeout <seconds>  how long to wait before killing the master (default 120)
  -h, --help           show this help
`;

export interface StopOptions {
  readonly cancel: boolean;
  readonly timeoutSeconds: number;
}

const POLL_MS = 100;

export async function stopMaster(dir: MasterDir, options: StopOptions, io: Io): Promise<number> {
  const pid = runningMasterPid(dir.pidFile);
  if (pid === undefined) {
    const stale = readPid(dir.pidFile);
    if (stale !== undefined) {
      // The master died without cleaning up (killed, crashed): leave the directory usable.
      rmSync(dir.pidFile, { force: true });
      rmSync(dir.controlFile, { force: true });
      io.out(`master not running at ${dir.basedir} (removed the stale pid file of process ${stale})`);
    } else io.out(`master not running at ${dir.basedir}`);
    return EXIT.OK;
  }
  process.kill(pid, options.cancel ? 'SIGINT' : 'SIGTERM');
  io.out(
    options.cancel
      ? `stopping the master (pid ${pid}), cancelling running builds`
      : `stopping the master (pid ${pid}); running builds may finish first (lathe stop --cancel to cancel them)`,
  );
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      io.out('master stopped');
      return EXIT.OK;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  io.err(`lathe stop: the master (pid ${pid}) did not exit within ${options.timeoutSeconds}s; killing it`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it exited just now
  }
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, POLL_MS));
  rmSync(dir.pidFile, { force: true });
  rmSync(dir.controlFile, { force: true });
  io.out('master killed');
  return EXIT.OK;
}

export const stopCommand: Command = {
  help,
  summary: 'stop the master (waits for running builds unless --cancel)',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cancel: { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    const dir = masterDir(atMostOneDir(positionals, help));
    return stopMaster(
      dir,
      { cancel: values.cancel ?? false, timeoutSeconds: seconds(values.timeout, 120, '--timeout', help) },
      io,
    );
  },
};
