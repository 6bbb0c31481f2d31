/** `lathe-worker stop` and `restart`. */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isDaemonProcess, readPid, seconds, UsageError } from '@lathe/daemon';
import { PID_FILE, readConfig } from '../config.js';
import { WORKER_DAEMON } from '../daemon/worker-process.js';
import { startWorker } from './start.js';

export const stopHelp = `Usage: lathe-worker stop [options] [basedir]

Stops the worker of basedir (default: the current directory): sends it SIGTERM,
which kills running builds, and waits for it to exit.

Options:
  --timeout <seconds>  how long to wait for the worker to exit (default 10)
  -h, --help           show this help
`;

export const restartHelp = `Usage: lathe-worker restart [options] [basedir]

Stops the worker of basedir (if it runs) and starts it again in the background.

Options:
  --timeout <seconds>  how long to wait for the old worker to exit (default 10)
  --wait <seconds>     how long to wait for the new one to connect (default 15)
  -h, --help           show this help
`;

/** Result of stopping: 'stopped', 'not-running', or a failure already reported. */
async function stopRunning(
  basedir: string,
  timeoutSeconds: number,
  out: (l: string) => void,
): Promise<number> {
  readConfig(basedir);
  const pidFile = join(basedir, PID_FILE);
  const pid = readPid(pidFile);
  if (pid === undefined) {
    out(`lathe-worker is not running in ${basedir} (no ${PID_FILE})`);
    return 0;
  }
  if (!isDaemonProcess(pid, WORKER_DAEMON)) {
    out(`lathe-worker is not running in ${basedir} (removing stale ${PID_FILE} of pid ${pid})`);
    rmSync(pidFile, { force: true });
    return 0;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === 'EPERM'
        ? 'not allowed (is it running as another user?)'
        : (err as Error).message;
    out(`cannot stop lathe-worker (pid ${pid}): ${why}`);
    return 1;
  }
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (!isDaemonProcess(pid, WORKER_DAEMON)) {
      if (existsSync(pidFile) && readPid(pidFile) === pid) rmSync(pidFile, { force: true });
      out(`lathe-worker (pid ${pid}) stopped`);
      return 0;
    }
  }
  out(`lathe-worker (pid ${pid}) did not exit within ${timeoutSeconds} s; it may still be killing builds`);
  return 1;
}

export async function stopWorker(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    out(stopHelp);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('stop takes at most one basedir', stopHelp);
  return stopRunning(resolve(positionals[0] ?? '.'), seconds(values.timeout, 10, '--timeout', stopHelp), out);
}

export async function restartWorker(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { timeout: { type: 'string' }, wait: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    out(restartHelp);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('restart takes at most one basedir', restartHelp);
  const basedir = resolve(positionals[0] ?? '.');
  const stopped = await stopRunning(basedir, seconds(values.timeout, 10, '--timeout', restartHelp), out);
  if (stopped !== 0) return stopped;
  return startWorker([...(values.wait ? ['--wait', values.wait] : []), basedir], out);
}
