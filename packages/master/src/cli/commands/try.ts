// `lathe try`: builds what is in the local git tree but not yet upstream. Sends the diff of
// the tree against its fork point from the upstream branch to a master's try scheduler
// (Try_Userpass, the same exchange as `buildbot try --connect=pb`), waits for the builds,
// prints each step's result as it finishes and, for a failed build, its failing logs' tails.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { RESULT_NAMES, type Result, SUCCESS, WARNINGS } from '../../results.js';
import { masterHostPort, propertyOptions } from '../option-values.js';
import { type BuildReport, sendTry, TryClientError } from '../try/client.js';
import { LocalTreeError, localDiff } from '../try/local-diff.js';
import { type Command, EXIT, type Io, UsageError } from '../usage.js';

const help = `Usage: lathe try [options]

Builds your local changes before you push them: sends the diff of the git tree
(committed or not; untracked files are left out) against the point where its
branch forked from its upstream (git merge-base HEAD @{u}) to a master's try
scheduler (tryUserpassScheduler in its config; Buildbot's Try_Userpass works
too), waits for the builds, and prints each step's result and the tail of the
failing step's log.

Options:
  -m, --master <host:port>     where the try scheduler listens (the worker port)
  -u, --username <user>        try user (from the scheduler's userpass)
      --passwd <password>      its password (default: $LATHE_TRY_PASSWD)
  -b, --builder <name>         build on this builder (repeatable; default: all
                               the scheduler allows)
  -C, --directory <dir>        the git tree (default: the current directory)
  -w, --who <name>             who asks (default: git config user.name)
  -c, --comment <text>         a comment for the build's reason
  -p, --property <name=value>  a build property (repeatable)
      --repository <url>       the repository, for masters that build several
      --project <name>         the project
      --no-wait                return once the job is accepted
      --tail <lines>           lines of a failing log to show (default 30)
  -h, --help                   show this help

Exit status: 0 when every build succeeded, 1 when one did not or the job was
refused, 2 for a usage error.
`;

const resultText = (r: number | null) =>
  r === null ? 'not finished' : (RESULT_NAMES[r as Result] ?? `result ${r}`);

function gitUserName(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'config', 'user.name'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

function printBuild(io: Io, build: BuildReport): void {
  for (const tail of build.tails) {
    io.out(
      `--- ${build.builder}: step ${JSON.stringify(tail.step)} failed; last ${tail.lines.length} lines of its log ${JSON.stringify(tail.log)}:`,
    );
    for (const line of tail.lines) io.out(line);
  }
  io.out(`${build.builder}: ${resultText(build.results)}${build.text ? ` (${build.text})` : ''}`);
}

export const tryCommand: Command = {
  help,
  summary: 'build your uncommitted/unpushed changes on a master',
  async run(argv, io: Io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        master: { type: 'string', short: 'm' },
        username: { type: 'string', short: 'u' },
        passwd: { type: 'string' },
        builder: { type: 'string', short: 'b', multiple: true },
        directory: { type: 'string', short: 'C' },
        who: { type: 'string', short: 'w' },
        comment: { type: 'string', short: 'c' },
        property: { type: 'string', short: 'p', multiple: true },
        repository: { type: 'string' },
        project: { type: 'string' },
        'no-wait': { type: 'boolean' },
        tail: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.out(help);
      return EXIT.OK;
    }
    if (positionals.length > 0)
      throw new UsageError(`takes no arguments, got ${JSON.stringify(positionals[0])}`, help);
    if (values.master === undefined) throw new UsageError('--master is required', help);
    if (!values.username) throw new UsageError('--username is required', help);
    const password = values.passwd ?? process.env.LATHE_TRY_PASSWD;
    if (!password) throw new UsageError('--passwd (or $LATHE_TRY_PASSWD) is required', help);
    const tailLines = values.tail === undefined ? 30 : Number(values.tail);
    if (!Number.isInteger(tailLines) || tailLines < 0)
      throw new UsageError(`--tail must be a number of lines, got ${JSON.stringify(values.tail)}`, help);
    const { host, port } = masterHostPort(values.master, help);
    const dir = values.directory ?? '.';
    const props = propertyOptions(values.property ?? [], '=', help);
    try {
      const local = await localDiff(dir);
      if (local.diff.length === 0)
        io.out(`lathe try: warning: no difference from ${local.upstream}; building it as it is`);
      io.out(
        `lathe try: sending ${local.diff.length} bytes of diff against ${local.upstream} at ${local.baseRevision.slice(0, 12)} to ${host}:${port}`,
      );
      const wait = !values['no-wait'];
      const outcome = await sendTry(
        {
          host,
          port,
          user: values.username,
          password,
          branch: local.branch,
          revision: local.baseRevision,
          patchLevel: local.patchLevel,
          diff: local.diff,
          repository: values.repository ?? '',
          project: values.project ?? '',
          builderNames: values.builder ?? [],
          who: values.who ?? gitUserName(dir),
          comment: values.comment ?? '',
          properties: props,
        },
        wait
          ? {
              tailLines,
              onStep: (s) => io.out(`${s.builder}: step ${JSON.stringify(s.step)}: ${resultText(s.results)}`),
            }
          : null,
        (builders) => io.out(`lathe try: job accepted, building on ${builders.join(', ')}`),
      );
      if (!outcome.builds) return EXIT.OK;
      for (const build of outcome.builds) printBuild(io, build);
      const ok = outcome.builds.every((b) => b.results === SUCCESS || b.results === WARNINGS);
      return ok ? EXIT.OK : EXIT.FAILED;
    } catch (err) {
      if (!(err instanceof TryClientError || err instanceof LocalTreeError)) throw err;
      io.err(`lathe try: ${err.message}`);
      return EXIT.FAILED;
    }
  },
};
