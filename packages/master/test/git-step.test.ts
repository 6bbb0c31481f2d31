// The Git step against a scripted step context: the exact worker commands and arguments
// of the copy method, shallow clones, submodules, `config` and the fallbacks, the options
// refused at construction, and the `git describe` flags. The same paths on real workers and
// repositories: steps-git.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourceStampPatch } from '../src/data/sourcestamps.js';
import { FAILURE, type Result, SUCCESS } from '../src/results.js';
import type { RemoteCommand, StepContext } from '../src/steps/contract.js';
import { describeCommand, GitConfigError, type GitOptions, git } from '../src/steps/git.js';

const SHA = 'c'.repeat(40);
const URL = 'https://example.org/r.git';

interface Answer {
  readonly rc?: number;
  readonly stdout?: string;
  readonly files?: readonly string[];
}

/** Runs a Git step; `answer` scripts the worker, by the command's display form. */
async function runGit(
  options: Omit<GitOptions, 'repourl'>,
  answer: (display: string) => Answer | undefined,
  properties: Record<string, unknown> = {},
  patch: SourceStampPatch | null = null,
): Promise<{ result: Result; sent: string[]; args: RemoteCommand[]; props: Record<string, unknown> }> {
  const sent: string[] = [];
  const args: RemoteCommand[] = [];
  const props: Record<string, unknown> = {};
  const ctx = {
    signal: new AbortController().signal,
    sourcePatch: async () => patch,
    addLog: async () => ({ write: async () => {}, finish: async () => {} }),
    getProperty: (name: string) => properties[name],
    setProperty: (name: string, value: unknown) => {
      props[name] = value;
    },
    render: async (v: unknown) => v,
    runCommand: async (cmd: RemoteCommand) => {
      const a = cmd.args as Record<string, unknown>;
      const display =
        cmd.name === 'shell'
          ? `${a.workdir}$ ${(a.command as string[]).join(' ')}`
          : `${cmd.name} ${JSON.stringify(a)}`;
      sent.push(display);
      args.push(cmd);
      const reply = answer(display) ?? {};
      // Defaults: git commands work, rev-parse says SHA, the workdir is empty.
      const stdout = reply.stdout ?? (display.endsWith('rev-parse HEAD') ? `${SHA}\n` : '');
      return {
        rc: reply.rc ?? (cmd.name === 'stat' || cmd.name === 'listdir' ? 2 : 0),
        interrupted: false,
        updates: reply.files ? { files: [reply.files] } : {},
        stdout: cmd.collectStdout ? stdout : '',
      };
    },
  } as unknown as StepContext;
  const result = await git({ repourl: URL, ...options }).run(ctx);
  return { result, sent, args, props };
}

describe('the Git step, command by command', () => {
  it('copy: removes the build dir, updates `source` incrementally with submodules, copies it', async () => {
    const rev = 'd'.repeat(40);
    const { result, sent, args, props } = await runGit(
      {
        mode: 'full',
        method: 'copy',
        submodules: true,
        getDescription: { tags: true },
        config: { 'protocol.file.allow': 'always' },
      },
      (d) => {
        if (d.startsWith('listdir')) return { rc: 0, files: ['.git', 'a.txt'] };
        if (d.includes('cat-file')) return { rc: 1 };
        if (d.includes('describe')) return { stdout: 'v2.0-3-gdddddd\n' };
        return undefined;
      },
      { branch: 'main', revision: rev },
    );
    assert.equal(result, SUCCESS);
    const g = 'git -c protocol.file.allow=always';
    assert.deepEqual(sent, [
      `build$ ${g} --version`,
      'stat {"file":"build/.buildbot-patched","logEnviron":false}',
      'rmdir {"dir":"build","logEnviron":true,"timeout":1200}',
      'listdir {"dir":"source"}',
      `source$ ${g} cat-file -e ${rev}`,
      `source$ ${g} fetch -f -t ${URL} main --progress`,
      `source$ ${g} checkout -f ${rev}`,
      `source$ ${g} checkout -B main`,
      `source$ ${g} submodule sync`,
      `source$ ${g} submodule update --init --recursive --force --checkout`,
      'cpdir {"fromdir":"source","todir":"build","logEnviron":true,"timeout":1200}',
      `build$ ${g} rev-parse HEAD`,
      `build$ ${g} describe --tags HEAD`,
    ]);
    // Every command reports into the step's one log, as Buildbot's.
    assert.ok(args.every((c) => c.logName === 'stdio'));
    assert.deepEqual(props, { got_revision: SHA, 'commit-description': 'v2.0-3-gdddddd' });
  });

  it('copy: stops when the old build directory cannot be removed (cp would nest the copy)', async () => {
    const { result, sent } = await runGit({ mode: 'full', method: 'copy' }, (d) =>
      d.startsWith('rmdir') ? { rc: 1 } : undefined,
    );
    assert.equal(result, FAILURE);
    assert.ok(sent.at(-1)?.startsWith('rmdir'), sent.join('\n'));
  });

  it('clobber: a shallow clone with reference and origin, then the submodules with --remote', async () => {
    const { result, sent } = await runGit(
      {
        mode: 'full',
        method: 'clobber',
        shallow: 3,
        reference: '/cache/r.git',
        origin: 'up',
        submodules: true,
        remoteSubmodules: true,
        progress: false,
      },
      () => undefined,
      { branch: 'dev' },
    );
    assert.equal(result, SUCCESS);
    assert.deepEqual(sent.slice(2), [
      'rmdir {"dir":"build","logEnviron":true,"timeout":1200}',
      `build$ git clone --branch dev --depth 3 --reference /cache/r.git --origin up ${URL} .`,
      'build$ git submodule update --init --recursive --remote',
      'build$ git rev-parse HEAD',
    ]);
  });

  it('fresh with submodules cleans them with -x; clean without', async () => {
    for (const [method, flags] of [
      ['fresh', 'git clean -f -f -d -x'],
      ['clean', 'git clean -f -f -d'],
    ] as const) {
      const { result, sent } = await runGit({ mode: 'full', method, submodules: true }, (d) =>
        d.startsWith('listdir') ? { rc: 0, files: ['.git'] } : undefined,
      );
      assert.equal(result, SUCCESS);
      assert.deepEqual(sent.slice(3), [
        `build$ ${flags}`,
        `build$ git fetch -f -t ${URL} HEAD --progress`,
        'build$ git checkout -f FETCH_HEAD',
        'build$ git submodule sync',
        'build$ git submodule update --init --recursive --force --checkout',
        `build$ git submodule foreach --recursive ${flags}`,
        `build$ ${flags}`,
        'build$ git rev-parse HEAD',
      ]);
    }
  });

  it('clobberOnFailure: a failed fetch removes the checkout and clones; a failed clone is cloned again', async () => {
    let fetches = 0;
    const fetched = await runGit({ clobberOnFailure: true }, (d) => {
      if (d.startsWith('listdir')) return { rc: 0, files: ['.git'] };
      if (d.includes(' fetch ')) return { rc: ++fetches === 1 ? 128 : 0 };
      return undefined;
    });
    assert.equal(fetched.result, SUCCESS);
    assert.deepEqual(fetched.sent.slice(3), [
      `build$ git fetch -f -t ${URL} HEAD --progress`,
      'rmdir {"dir":"build","logEnviron":true,"timeout":1200}',
      `build$ git clone ${URL} . --progress`,
      'build$ git rev-parse HEAD',
    ]);

    let clones = 0;
    const cloned = await runGit({ clobberOnFailure: true }, (d) =>
      d.includes(' clone ') ? { rc: ++clones === 1 ? 128 : 0 } : undefined,
    );
    assert.equal(cloned.result, SUCCESS);
    assert.equal(clones, 2);

    const failing = await runGit({ clobberOnFailure: true }, (d) =>
      d.includes(' clone ') ? { rc: 128 } : undefined,
    );
    assert.equal(failing.result, FAILURE);
    assert.equal(
      failing.sent.filter((d) => d.includes(' clone ')).length,
      2,
      'one clobber, then the step fails',
    );
  });

  it('a failed describe leaves the checkout successful, without commit-description', async () => {
    const { result, props } = await runGit({ getDescription: true }, (d) =>
      d.includes('describe') ? { rc: 128 } : undefined,
    );
    assert.equal(result, SUCCESS);
    assert.deepEqual(props, { got_revision: SHA });
  });
});

describe('Git options', () => {
  it('refuses what Buildbot refuses at config time, and a few things that cannot work', () => {
    const refused: Omit<GitOptions, 'repourl'>[] = [
      { shallow: true },
      { mode: 'full', method: 'fresh', shallow: true },
      { mode: 'full', method: 'clobber', shallow: 0.5 },
      { mode: 'full', method: 'clobber', shallow: -1 },
      { mode: 'full', method: 'copy', workdir: 'source' },
      { retry: [-1, 2] },
      { retry: [1, 1.5] },
    ];
    for (const o of refused)
      assert.throws(() => git({ repourl: URL, ...o }), GitConfigError, JSON.stringify(o));
    for (const o of [
      { mode: 'full', method: 'clobber', shallow: 2 },
      { mode: 'full', method: 'copy', workdir: 'src' },
      { shallow: false },
      { mode: 'incremental', method: 'clobber' },
      { retry: [0, 3] },
    ] as const)
      assert.doesNotThrow(() => git({ repourl: URL, ...o }), JSON.stringify(o));
  });

  it('renders workdir, env and timeout for the build; refuses a rendered copy workdir of source', async () => {
    const props = { dir: 'checkout', quiet: '30', who: 'ci' };
    const { result, args } = await runGit(
      {
        workdir: (ctx) => String(ctx.getProperty('dir')),
        env: (ctx) => ({ GIT_AUTHOR_NAME: String(ctx.getProperty('who')) }),
        timeout: (ctx) => String(ctx.getProperty('quiet')) as unknown as number,
      },
      () => undefined,
      props,
    );
    assert.equal(result, SUCCESS);
    const shells = args.filter((c) => c.name === 'shell').map((c) => c.args as Record<string, unknown>);
    assert.ok(shells.length > 0);
    for (const a of shells) {
      assert.equal(a.workdir, 'checkout');
      assert.equal(a.timeout, 30, 'the text "30" read as a number');
      assert.deepEqual(a.env, { GIT_AUTHOR_NAME: 'ci' });
    }
    await assert.rejects(
      runGit({ mode: 'full', method: 'copy', workdir: () => 'source' }, () => undefined),
      /step option workdir must be other than 'source' with method 'copy'/,
    );
  });

  it('builds git describe arguments in Buildbot order', () => {
    assert.deepEqual(describeCommand(true), ['describe', 'HEAD']);
    assert.deepEqual(
      describeCommand({
        dirty: false,
        candidates: 0,
        abbrev: 0,
        match: 'v*',
        tags: true,
        'exact-match': true,
        long: true,
        debug: true,
        contains: true,
        always: true,
        all: true,
      }),
      [
        'describe',
        '--all',
        '--always',
        '--contains',
        '--debug',
        '--long',
        '--exact-match',
        '--tags',
        '--match',
        'v*',
        '--abbrev=0',
        '--candidates=0',
        'HEAD',
      ],
    );
    // --dirty describes the work tree: no commit argument.
    assert.deepEqual(describeCommand({ dirty: true }), ['describe', '--dirty']);
    assert.deepEqual(describeCommand({ dirty: '' }), ['describe', '--dirty']);
    assert.deepEqual(describeCommand({ dirty: '-mod' }), ['describe', '--dirty=-mod']);
  });
});

describe("git: a try job's patch", () => {
  const patch = (body: Buffer, subdir: string | null = null): SourceStampPatch => ({
    level: 2,
    body,
    author: 'a',
    comment: 'c',
    subdir,
  });
  /** The bytes a downloadFile command would write, read from its reader. */
  const downloaded = (cmd: RemoteCommand | undefined): Buffer => {
    const reader = cmd?.args.reader as { remote_read(n: number): Uint8Array };
    return Buffer.from(reader.remote_read(1 << 20));
  };

  it('after the checkout: the diff and the patched marker to the worker, git apply --index, the diff removed', async () => {
    const body = Buffer.from([0x2b, 0xff, 0x0a]); // not UTF-8: travels as a file, unchanged
    const { result, sent, args } = await runGit(
      { mode: 'full', method: 'clobber' },
      () => undefined,
      {},
      patch(body),
    );
    assert.equal(result, SUCCESS);
    const from = sent.findIndex((s) => s.startsWith('downloadFile'));
    assert.ok(from > sent.findIndex((s) => s.includes('git clone')), sent.join('\n'));
    assert.deepEqual(
      sent.slice(from + 2, from + 6).map((s) => s.replace(/^(\w+) .*"dir":"([^"]+)".*$/, '$1 $2')),
      [
        'build$ git update-index --refresh',
        'build$ git apply --index -p 2 .buildbot-diff',
        'rmdir build/.buildbot-diff',
        'build$ git rev-parse HEAD',
      ],
    );
    assert.deepEqual(
      [args[from]!.args.workerdest, args[from + 1]!.args.workerdest],
      ['.buildbot-diff', '.buildbot-patched'],
    );
    assert.deepEqual(downloaded(args[from]), body);
  });

  it('applies in its subdirectory unless that leaves the tree', async () => {
    const inSub = await runGit(
      { mode: 'full', method: 'clobber' },
      () => undefined,
      {},
      patch(Buffer.from('x'), 'lib/x'),
    );
    assert.ok(
      inSub.sent.includes('build/lib/x$ git apply --index -p 2 .buildbot-diff'),
      inSub.sent.join('\n'),
    );
    const outside = await runGit(
      { mode: 'full', method: 'clobber' },
      () => undefined,
      {},
      patch(Buffer.from('x'), '../elsewhere'),
    );
    assert.ok(outside.sent.includes('build$ git apply --index -p 2 .buildbot-diff'), outside.sent.join('\n'));
  });

  it('a patch that does not apply fails the step', async () => {
    const { result } = await runGit(
      { mode: 'full', method: 'clobber' },
      (d) => (d.includes('git apply') ? { rc: 1 } : undefined),
      {},
      patch(Buffer.from('x')),
    );
    assert.equal(result, FAILURE);
  });
});
