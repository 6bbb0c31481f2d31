import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { upgradeMaster } from '../../commands.js';
import { DEFAULT_WORKER_PORT } from '../../config/types.js';
import { parsePort } from '../../config/validate.js';
import { DEFAULT_CONFIG_FILE } from '../../master.js';
import { type MasterDir, masterDir, writeSecret } from '../masterdir.js';
import { configTemplate, sampleProjectFiles } from '../template.js';
import { type Command, EXIT, UsageError } from '../usage.js';

const help = `Usage: lathe create-master [options] <dir>

Creates a master directory: a commented ${DEFAULT_CONFIG_FILE} with one local worker
and a sample builder, the sample project it builds, the database, and
control.secret (mode 0600), the password of the control port that
'lathe force', 'status' and 'reconfig' use.

Options:
  --worker-port <port>   port workers connect to (default ${DEFAULT_WORKER_PORT})
  --worker-name <name>   name of the sample worker (default local-worker)
  --www-port <port>      serve the data API (HTTP) on this port (default: not served)
  -f, --force            write into a directory that already has a config
  -h, --help             show this help
`;

export interface CreateMasterOptions {
  readonly workerPort?: number;
  /** Port of the data API; default none (the config's `www` is left commented out). */
  readonly wwwPort?: number;
  readonly workerName?: string;
  readonly force?: boolean;
}

export class MasterExistsError extends Error {
  override readonly name = 'MasterExistsError';
  constructor(readonly file: string) {
    super(`${file} already exists (use --force to overwrite it)`);
  }
}

/** This package's root, to make `@lathe/master` importable from configs outside the repo. */
const packageRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export async function createMaster(dirArg: string, options: CreateMasterOptions = {}): Promise<MasterDir> {
  const dir = masterDir(dirArg);
  const configFile = join(dir.basedir, DEFAULT_CONFIG_FILE);
  if (existsSync(configFile) && !options.force) throw new MasterExistsError(configFile);
  // Private: the database, logs and uploads inside it are not for every user of the machine.
  mkdirSync(dir.basedir, { recursive: true, mode: 0o700 });

  const sampleProject = join(dir.basedir, 'sample-project');
  mkdirSync(sampleProject, { recursive: true });
  for (const [name, text] of Object.entries(sampleProjectFiles))
    writeFileSync(join(sampleProject, name), text);

  writeFileSync(
    configFile,
    configTemplate({
      workerName: options.workerName ?? 'local-worker',
      // Hex, not base64url: a password starting with '-' reads as an option on a command line.
      workerPassword: randomBytes(12).toString('hex'),
      workerPort: options.workerPort ?? DEFAULT_WORKER_PORT,
      wwwPort: options.wwwPort ?? null,
      sampleProject,
      stepLibrary: await hasStepLibrary(),
    }),
    // The config holds worker passwords.
    { mode: 0o600 },
  );
  // The config is an ES module for both Node and tsc (which treats an unmarked .ts as CommonJS).
  const pkg = join(dir.basedir, 'package.json');
  if (!existsSync(pkg)) writeFileSync(pkg, `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
  linkLatheIfNeeded(dir.basedir);
  if (!existsSync(dir.secretFile)) writeSecret(dir.secretFile);
  await upgradeMaster(dir.basedir);
  return dir;
}

/** Whether this build of @lathe/master has the step library (shellCommand and friends). */
async function hasStepLibrary(): Promise<boolean> {
  const lathe = (await import('../../index.js')) as Record<string, unknown>;
  return typeof lathe.shellCommand === 'function';
}

/**
 * A master directory outside a tree that has Lathe installed could not import
 * `@lathe/master`; link this installation into its node_modules.
 */
function linkLatheIfNeeded(basedir: string): void {
  try {
    createRequire(join(basedir, 'noop.js')).resolve('@lathe/master');
    return;
  } catch {
    // not resolvable from there: link it
  }
  const scope = join(basedir, 'node_modules', '@lathe');
  mkdirSync(scope, { recursive: true });
  const link = join(scope, 'master');
  if (!existsSync(link)) symlinkSync(resolve(packageRoot), link, 'dir');
}

/** The value of a --worker-port (or another port) option, or a UsageError. */
export function workerPortOption(value: string, helpText: string, option = '--worker-port'): number {
  if (!/^\d+$/.test(value.trim()))
    throw new UsageError(`${option} needs a port number, got ${JSON.stringify(value)}`, helpText);
  const p = parsePort(Number(value));
  if (typeof p === 'string') throw new UsageError(`${option}: ${p}`, helpText);
  return p.port;
}

export const createMasterCommand: Command = {
  help,
  summary: 'create a master directory with a sample configuration',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'worker-port': { type: 'string' },
        'worker-name': { type: 'string' },
        'www-port': { type: 'string' },
        force: { type: 'boolean', short: 'f' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length !== 1)
      throw new UsageError(`needs exactly one directory, got ${positionals.length}`);
    const workerPort =
      values['worker-port'] === undefined ? undefined : workerPortOption(values['worker-port'], help);
    try {
      const dir = await createMaster(positionals[0]!, {
        ...(workerPort === undefined ? {} : { workerPort }),
        ...(values['www-port'] === undefined
          ? {}
          : { wwwPort: workerPortOption(values['www-port'], help, '--www-port') }),
        ...(values['worker-name'] === undefined ? {} : { workerName: values['worker-name'] }),
        force: values.force ?? false,
      });
      io.out(`created a master in ${dir.basedir}
  ${DEFAULT_CONFIG_FILE}   the configuration (edit it, then: lathe checkconfig ${dir.basedir})
  control.secret     the control port's password (keep it private)
  state.sqlite       the database
next: lathe start ${dir.basedir}`);
      return EXIT.OK;
    } catch (err) {
      if (err instanceof MasterExistsError) {
        io.err(`lathe create-master: ${err.message}`);
        return EXIT.FAILED;
      }
      throw err;
    }
  },
};
