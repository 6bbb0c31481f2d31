import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import {
  prepareSpareShell,
  type SpareShellSpawn,
  spareShellPid,
  takeSpareShell,
} from '../src/process/spare-shell.js';
import { runCommand, tempDir, textOf, valuesOf } from './helpers.js';

// Debian's /bin/sh is dash, where spare shells are used; elsewhere they never are and this
// file would test nothing, so it says so instead of passing.
const dash = basename(realpathSync('/bin/sh')) === 'dash';

/** Prints what a program can see of how it was started, reads its stdin, exits 3. */
const PROBE = [
  '-c',
  'env | LC_ALL=C sort; echo "argv0=$0 args=$*"; pwd; cat; ps -o pgid= -p $$; exit 3',
  'probe',
  'a b',
  "it's",
];

interface Seen {
  readonly out: string;
  readonly code: number | null;
  readonly pid: number;
}

async function run(child: ChildProcess, stdin: string): Promise<Seen> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stdin!.end(stdin);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { out, code, pid: child.pid! };
}

async function spareReady(): Promise<void> {
  prepareSpareShell();
  const end = Date.now() + 10_000;
  while (spareShellPid() === null) {
    if (Date.now() > end) throw new Error('no spare shell');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('spare shell', { skip: !dash && !process.env.CI ? '/bin/sh is not dash' : false }, () => {
  it('is what spawn() would start: environment, argv, directory, stdin, exit code, own process group', async () => {
    assert.ok(dash, 'CI runs on Debian, whose /bin/sh is dash');
    const cwd = tempDir();
    const env = {
      PATH: '/usr/bin:/bin',
      PWD: cwd,
      QUOTED: `it's "quoted" $HOME \`x\` \\ !`,
      LINES: 'two\nlines',
      EMPTY: '',
      IFS: ':',
    };
    const spec = { file: '/bin/sh', args: PROBE, cwd, env };
    const spawned = await run(
      spawn(spec.file, spec.args, { cwd, env, detached: true, stdio: 'pipe' }),
      'from stdin\n',
    );
    await spareReady();
    const child = takeSpareShell(spec);
    assert.ok(child, 'the spare shell takes a command it can run exactly');
    assert.equal(spareShellPid(), null);
    const spared = await run(child, 'from stdin\n');
    const withoutPid = (s: Seen) => s.out.replace(new RegExp(`^\\s*${s.pid}$`, 'm'), 'PGID=PID');
    assert.equal(spared.code, 3);
    assert.equal(withoutPid(spared), withoutPid(spawned));
    assert.match(withoutPid(spared), /^PGID=PID$/m, 'the command leads its own process group');
    assert.match(spared.out, /^QUOTED=it's "quoted" \$HOME `x` \\ !$/m);
    assert.match(spared.out, /argv0=probe args=a b it's/);
    assert.match(spared.out, /^from stdin$/m);
  });

  it('leaves to spawn() what it cannot start the same way, and stays ready', async () => {
    await spareReady();
    const cwd = tempDir();
    const env = { PATH: '/usr/bin:/bin' };
    const notExecutable = join(cwd, 'data.txt');
    writeFileSync(notExecutable, 'text', { mode: 0o644 });
    const refused: SpareShellSpawn[] = [
      { file: 'no-such-program-here', args: [], cwd, env },
      { file: './missing', args: [], cwd, env },
      { file: '/bin/sh', args: [], cwd: join(cwd, 'missing'), env },
      { file: '/bin/sh', args: [], cwd, env: { ...env, 'NOT.A.SHELL.NAME': 'x' } },
      { file: '/bin/sh', args: [], cwd, env: { HOME: '/' } },
      { file: notExecutable, args: [], cwd, env },
      { file: '/bin/echo', args: ['nul\0byte'], cwd, env },
    ];
    for (const spec of refused) assert.equal(takeSpareShell(spec), null, JSON.stringify(spec));
    assert.notEqual(spareShellPid(), null);
  });

  it('serves the commands of a build after the first one', async () => {
    const builderDir = tempDir();
    const args = (command: string[]) => ({
      workdir: 'build',
      env: { GREETING: 'hello' },
      want_stdout: true,
      want_stderr: true,
      logfiles: {},
      timeout: 60,
      usePTY: false,
      logEnviron: false,
      initial_stdin: 'piped\n',
      command,
    });
    const settings = { environment: { PATH: '/usr/bin:/bin' } };
    await runCommand('shell', args(['true']), { builderDir, settings });
    await spareReady();
    const pid = spareShellPid();
    const result = await runCommand(
      'shell',
      args(['sh', '-c', 'echo "$$: $GREETING from $(pwd)"; cat; exit 4']),
      {
        builderDir,
        settings,
      },
    );
    assert.equal(result.failure, null);
    const dir = realpathSync(join(builderDir, 'build'));
    assert.equal(
      textOf(result.updates, 'stdout'),
      `${pid}: hello from ${dir}\npiped\n`,
      'run by the spare shell',
    );
    assert.deepEqual(valuesOf(result.updates, 'rc'), [4]);
  });
});
