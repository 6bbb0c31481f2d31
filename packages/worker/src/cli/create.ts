/** `lathe-worker create`: set up a worker base directory. */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '@lathe/daemon';
import {
  CONFIG_FILE,
  configDefaults,
  parseMasterAddress,
  parseUmask,
  type WorkerConfig,
  writeConfig,
} from '../config.js';

export const createHelp = `Usage: lathe-worker create [options] <basedir> <master-host:port> <name> <password>

Creates a worker base directory: worker.json (master address, credentials and
the options below; readable by its owner only) and info/admin, info/host
(shown on the master's web pages).

Options:
  --keepalive <seconds>     keepalive interval to the master, 0 = off (default 600)
  --umask <octal>           file mode creation mask for the worker and its builds,
                            e.g. 022 (default: inherit)
  --maxdelay <seconds>      longest wait between reconnection attempts (default 300)
  --maxretries <n>          give up after n failed connection attempts (default: never)
  --numcpus <n>             number of CPUs to report (default: detect)
  --admin <text>            contents of info/admin, e.g. "Jane Doe <jane@example.org>"
  --host <text>             contents of info/host, a description of this machine
  --use-tls                 connect to the master with TLS
  --tls-ca <file>           PEM file of the CA (or the master's self-signed
                            certificate) to trust; implies --use-tls
  --allow-shutdown <how>    let the worker ask the master for a graceful shutdown on
                            'signal' (SIGHUP) or 'file' (touching shutdown.stamp)
  --delete-leftover-dirs    delete directories no builder uses any more
  --keep-leftover-processes let processes a build step started in the background
                            outlive it (by default they are killed when it ends)
  --log-size <bytes>        rotate worker.log at this size (default 10000000)
  --log-count <n>           rotated logs to keep (default 10)
  --no-logrotate            never rotate worker.log
  -f, --force               reuse a directory that already holds a worker
  -h, --help                show this help
`;

const defaultAdmin = 'Your Name Here <admin@youraddress.invalid>\n';
const defaultHost = 'Please put a description of this build host here\n';

export function createWorker(argv: string[], out: (line: string) => void): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      keepalive: { type: 'string' },
      umask: { type: 'string' },
      maxdelay: { type: 'string' },
      maxretries: { type: 'string' },
      numcpus: { type: 'string' },
      admin: { type: 'string' },
      host: { type: 'string' },
      'use-tls': { type: 'boolean' },
      'tls-ca': { type: 'string' },
      'allow-shutdown': { type: 'string' },
      'delete-leftover-dirs': { type: 'boolean' },
      'keep-leftover-processes': { type: 'boolean' },
      'log-size': { type: 'string' },
      'log-count': { type: 'string' },
      'no-logrotate': { type: 'boolean' },
      force: { type: 'boolean', short: 'f' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(createHelp);
    return 0;
  }
  if (positionals.length !== 4) {
    throw new UsageError(
      `create needs 4 arguments: <basedir> <master-host:port> <name> <password> (got ${positionals.length})`,
      createHelp,
    );
  }
  const [basedirArg, masterArg, name, password] = positionals as [string, string, string, string];
  const basedir = resolve(basedirArg);
  let master: { host: string; port: number };
  try {
    master = parseMasterAddress(masterArg);
  } catch (err) {
    throw new UsageError((err as Error).message, createHelp);
  }
  if (name.trim() === '') throw new UsageError('the worker name must not be empty', createHelp);

  const allowShutdown = values['allow-shutdown'] ?? null;
  if (allowShutdown !== null && allowShutdown !== 'signal' && allowShutdown !== 'file') {
    throw new UsageError(`--allow-shutdown must be 'signal' or 'file', not '${allowShutdown}'`, createHelp);
  }
  const config: WorkerConfig = {
    masterHost: master.host,
    masterPort: master.port,
    name,
    password,
    keepalive: integerOption('--keepalive', values.keepalive, 0) ?? configDefaults.keepalive,
    umask: umaskOption(values.umask),
    maxRetryDelay: integerOption('--maxdelay', values.maxdelay, 1) ?? configDefaults.maxRetryDelay,
    maxRetries: integerOption('--maxretries', values.maxretries, 1) ?? null,
    numcpus: integerOption('--numcpus', values.numcpus, 1) ?? null,
    allowShutdown,
    useTls: (values['use-tls'] ?? false) || values['tls-ca'] !== undefined,
    tlsCaFile: values['tls-ca'] === undefined ? null : resolve(values['tls-ca']),
    deleteLeftoverDirs: values['delete-leftover-dirs'] ?? false,
    killLeftoverProcesses: !values['keep-leftover-processes'],
    logRotateLength: values['no-logrotate']
      ? 0
      : (integerOption('--log-size', values['log-size'], 1) ?? configDefaults.logRotateLength),
    maxRotatedFiles: integerOption('--log-count', values['log-count'], 0) ?? configDefaults.maxRotatedFiles,
  };

  if (existsSync(basedir)) {
    if (!statSync(basedir).isDirectory()) throw new UsageError(`${basedir} exists and is not a directory`);
    if (existsSync(join(basedir, CONFIG_FILE)) && !values.force) {
      throw new UsageError(`${basedir} already holds a worker (${CONFIG_FILE}); use --force to overwrite it`);
    }
    if (readdirSync(basedir).length > 0 && !existsSync(join(basedir, CONFIG_FILE)) && !values.force) {
      throw new UsageError(`${basedir} is not empty; use --force to create the worker there anyway`);
    }
  }
  mkdirSync(join(basedir, 'info'), { recursive: true });
  writeConfig(basedir, config);
  writeInfo(join(basedir, 'info/admin'), values.admin, defaultAdmin, values.force);
  writeInfo(join(basedir, 'info/host'), values.host, defaultHost, values.force);
  out(`worker '${name}' created in ${basedir}, connecting to ${masterArg}`);
  out(`edit ${join(basedir, 'info/admin')} and info/host, then run: lathe-worker start ${basedirArg}`);
  return 0;
}

/** info files keep what an admin wrote unless a new value is given. */
function writeInfo(
  path: string,
  value: string | undefined,
  fallback: string,
  force: boolean | undefined,
): void {
  if (value !== undefined) writeFileSync(path, value.endsWith('\n') ? value : `${value}\n`);
  else if (!existsSync(path) || !force) writeFileSync(path, fallback);
}

function integerOption(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) {
    throw new UsageError(
      `${flag} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, not '${text}'`,
      createHelp,
    );
  }
  return n;
}

function umaskOption(text: string | undefined): string | null {
  if (text === undefined) return null;
  const mask = parseUmask(text);
  if (mask === undefined)
    throw new UsageError(`--umask needs an octal mode such as 022, not '${text}'`, createHelp);
  return mask.toString(8).padStart(3, '0');
}
