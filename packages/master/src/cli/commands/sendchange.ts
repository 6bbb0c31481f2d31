// `lathe sendchange`: tells a master's PB change source about a commit, as `buildbot
// sendchange` does (same options, same wire exchange), so hooks written for one work with
// the other. The master answers once the change is stored.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConnectError, connect, float, type PBConnection, RemoteError } from '@lathe/pb';
import { remoteMessage } from '../control-client.js';
import { masterHostPort, propertyOptions } from '../option-values.js';
import { type Command, EXIT, type Io, UsageError } from '../usage.js';

const help = `Usage: lathe sendchange [options] [files...]

Sends one change to a master's PB change source (pbChangeSource in its config;
Buildbot's PBChangeSource works too), which stores it and lets its schedulers
decide what to build. The files are the paths the change touched.

Options:
  -m, --master <host:port>   where the change source listens (the worker port)
  -a, --auth <user:password> change source credentials (default change:changepw)
  -W, --who <author>         author of the change (required)
  -b, --branch <branch>      branch (default: none, the default branch)
  -r, --revision <rev>       revision
  -R, --repository <url>     repository
  -P, --project <name>       project
  -C, --category <name>      category
      --codebase <name>      codebase
  -c, --comments <text>      the commit message
  -F, --logfile <file>       read the commit message from a file (- for stdin)
  -p, --property <name:value> a change property (repeatable)
  -w, --when <seconds>       when the change was made (epoch seconds; default now)
  -l, --revlink <url>        link to the revision
  -s, --vc <system>          the version control system (git, hg, svn, ...)
  -h, --help                 show this help
`;

export interface SendChangeOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly change: Readonly<Record<string, unknown>>;
  readonly timeoutMs?: number;
}

export class SendChangeError extends Error {
  override readonly name = 'SendChangeError';
}

/** Logs in, sends the change, and resolves once the master has stored it. */
export async function sendChange(o: SendChangeOptions): Promise<void> {
  let connection: PBConnection;
  try {
    connection = await connect({ host: o.host, port: o.port, timeoutMs: o.timeoutMs ?? 30_000 });
  } catch (err) {
    if (err instanceof ConnectError)
      throw new SendChangeError(`no master answers on ${o.host}:${o.port} (${err.message}); is it running?`);
    throw err;
  }
  try {
    let perspective: Awaited<ReturnType<PBConnection['login']>>;
    try {
      perspective = await connection.login(o.user, o.password);
    } catch (err) {
      if (err instanceof RemoteError && err.check('twisted.cred.error.UnauthorizedLogin'))
        throw new SendChangeError(
          `the master on ${o.host}:${o.port} refused the credentials of change source user ${JSON.stringify(o.user)}`,
        );
      throw err;
    }
    try {
      await perspective.callRemote('addChange', { ...o.change });
    } catch (err) {
      throw new SendChangeError(`the master did not take the change: ${remoteMessage(err)}`);
    }
  } finally {
    connection.close();
  }
}

const VCS = ['cvs', 'svn', 'darcs', 'hg', 'bzr', 'git', 'mtn', 'p4'];

export const sendchangeCommand: Command = {
  help,
  summary: 'send a change (a commit) to a master',
  async run(argv, io: Io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        master: { type: 'string', short: 'm' },
        auth: { type: 'string', short: 'a' },
        who: { type: 'string', short: 'W' },
        branch: { type: 'string', short: 'b' },
        revision: { type: 'string', short: 'r' },
        repository: { type: 'string', short: 'R' },
        project: { type: 'string', short: 'P' },
        category: { type: 'string', short: 'C' },
        codebase: { type: 'string' },
        comments: { type: 'string', short: 'c' },
        logfile: { type: 'string', short: 'F' },
        property: { type: 'string', short: 'p', multiple: true },
        when: { type: 'string', short: 'w' },
        revlink: { type: 'string', short: 'l' },
        vc: { type: 'string', short: 's' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (values.master === undefined) throw new UsageError('--master is required', help);
    if (values.who === undefined || values.who === '') throw new UsageError('--who is required', help);
    const { host, port } = masterHostPort(values.master, help);
    const auth = values.auth ?? 'change:changepw';
    const colon = auth.indexOf(':');
    if (colon <= 0) throw new UsageError('--auth must be user:password', help);
    if (values.vc !== undefined && !VCS.includes(values.vc))
      throw new UsageError(`--vc must be one of ${VCS.join(', ')}`, help);
    let when: number | null = null;
    if (values.when !== undefined) {
      when = Number(values.when);
      if (values.when.trim() === '' || !Number.isFinite(when))
        throw new UsageError(`--when must be a number of seconds, got ${JSON.stringify(values.when)}`, help);
    }
    let comments = values.comments;
    if (comments === undefined && values.logfile !== undefined)
      comments = readFileSync(values.logfile === '-' ? 0 : values.logfile, 'utf8');
    // The dictionary `buildbot sendchange` sends, key for key.
    const change: Record<string, unknown> = {
      project: values.project ?? '',
      repository: values.repository ?? '',
      who: values.who,
      files: positionals,
      comments: comments ?? '',
      branch: values.branch ?? null,
      revision: values.revision ?? null,
      category: values.category ?? null,
      when: when === null ? null : float(when),
      properties: propertyOptions(values.property ?? [], ':', help),
      revlink: values.revlink ?? '',
      src: values.vc ?? null,
      ...(values.codebase ? { codebase: values.codebase } : {}),
    };
    try {
      await sendChange({ host, port, user: auth.slice(0, colon), password: auth.slice(colon + 1), change });
    } catch (err) {
      if (!(err instanceof SendChangeError)) throw err;
      io.err(`lathe sendchange: ${err.message}`);
      return EXIT.FAILED;
    }
    io.out('change sent successfully');
    return EXIT.OK;
  },
};
