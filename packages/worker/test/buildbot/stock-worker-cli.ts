/**
 * A stand-in for Lathe's worker CLI that runs the stock buildbot-worker behind the same
 * command line, so the harness's `worker: 'lathe'` path (CLI invocation, process
 * handling, comparison with a stock run) is exercised before the Lathe worker can log in:
 *
 *   node stock-worker-cli.js create <basedir> <host:port> <name> <password>
 *   node stock-worker-cli.js start --nodaemon <basedir>
 */
import { execFileSync, spawn } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'create' && args.length === 4) {
  execFileSync('/usr/bin/buildbot-worker', ['create-worker', '--quiet', ...args], { stdio: 'inherit' });
} else if (cmd === 'start' && args[0] === '--nodaemon' && args[1]) {
  const child = spawn(
    '/usr/bin/python3',
    ['/usr/bin/twistd3', '--nodaemon', '--no_save', '-y', 'buildbot.tac'],
    {
      cwd: args[1],
      stdio: 'inherit',
    },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  console.error(
    'usage: stock-worker-cli.js create BASEDIR HOST:PORT NAME PASSWORD | start --nodaemon BASEDIR',
  );
  process.exit(2);
}
