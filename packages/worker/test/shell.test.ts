import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { killAllProcessTrees } from '../src/process/run-process.js';
import { WorkerFailure } from '../src/protocol/failure.js';
import { isTuple, PyFloat } from '../src/protocol/values.js';
import { keysOf, runCommand, startCommand, tempDir, textOf, unwritableDir, valuesOf } from './helpers.js';

/** The arguments a Buildbot 3.7 ShellCommand sends, in its order (bb-worker #0033). */
function shellArgs(command: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workdir: 'build',
    env: {},
    want_stdout: true,
    want_stderr: true,
    logfiles: {},
    timeout: 1200,
    maxTime: null,
    sigtermTime: null,
    usePTY: false,
    logEnviron: false,
    initial_stdin: null,
    interruptSignal: 'KILL',
    command,
    ...extra,
  };
}

const env = { PATH: '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C.UTF-8' };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('shell command', () => {
  it('runs an argv and reports like the bb-worker capture (#0036-#0040)', async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand(
      'shell',
      shellArgs(['echo', 'hello from buildbot'], { logEnviron: true }),
      { builderDir: b, settings: { environment: env } },
    );
    assert.equal(failure, null);
    assert.deepEqual(
      keysOf(updates).filter((k) => k !== 'header'),
      ['stdout', 'rc', 'elapsed'],
    );
    const header = textOf(updates, 'header');
    const workdir = join(b, 'build');
    assert.equal(
      header.split('elapsedTime=')[0],
      "echo 'hello from buildbot'\n" +
        ` in dir ${workdir} (timeout 1200 secs)\n` +
        ' watching logfiles {}\n' +
        " argv: [b'echo', b'hello from buildbot']\n" +
        ' environment:\n' +
        '  HOME=/nonexistent\n  LANG=C.UTF-8\n  PATH=/usr/bin:/bin\n' +
        `  PWD=${workdir}\n` +
        ' using PTY: False\n',
    );
    assert.match(header, /elapsedTime=\d+\.\d{6}\n$/);
    assert.equal(textOf(updates, 'stdout'), 'hello from buildbot\n');
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    const [elapsed] = valuesOf(updates, 'elapsed');
    assert.ok(typeof elapsed === 'number' || elapsed instanceof PyFloat);
    assert.ok(existsSync(workdir), 'workdir is created');
    // rc comes before the elapsedTime header, elapsed last
    const keys = keysOf(updates);
    assert.equal(keys.at(-1), 'elapsed');
    assert.equal(keys.at(-3), 'rc');
  });

  it('runs a string through /bin/sh with env, logfiles, exit code (bb-worker #0048-#0056)', async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand(
      'shell',
      shellArgs('echo out-line; echo err-line 1>&2; echo logline > mylog.txt; echo "$FOO"; exit 3', {
        env: { FOO: 'bar' },
        logfiles: { mylog: 'mylog.txt' },
        timeout: 60,
        maxTime: 120,
      }),
      { builderDir: b, settings: { environment: env } },
    );
    assert.equal(failure, null);
    const header = textOf(updates, 'header');
    assert.ok(header.includes(` in dir ${join(b, 'build')} (timeout 60 secs) (maxTime 120 secs)\n`));
    assert.ok(header.includes(" watching logfiles {'mylog': 'mylog.txt'}\n"));
    assert.ok(header.includes(" argv: b'echo out-line; echo err-line 1>&2;"));
    assert.ok(!header.includes('environment:'), 'logEnviron false hides the environment');
    assert.equal(textOf(updates, 'stdout'), 'out-line\nbar\n');
    assert.equal(textOf(updates, 'stderr'), 'err-line\n');
    const logs = valuesOf(updates, 'log');
    assert.ok(logs.every(isTuple));
    assert.deepEqual(
      logs.map((l) => [...(l as unknown[])]),
      [['mylog', 'logline\n']],
    );
    assert.deepEqual(valuesOf(updates, 'rc'), [3]);
    assert.ok(keysOf(updates).indexOf('log') < keysOf(updates).indexOf('rc'), 'logs before rc');
  });

  it('builds the environment: lists joined, $VAR references expanded, None removes, PYTHONPATH kept', async () => {
    const b = tempDir();
    const workerEnv = { ...env, DROPME: 'x', WORKERVAR: 'w', PYTHONPATH: '/old' };
    const { updates } = await runCommand(
      'shell',
      shellArgs(['/usr/bin/env'], {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Buildbot's ${VAR} syntax under test
        env: { LIST: ['/a', '/b'], EXP: '${WORKERVAR}-${UNSET_VAR}', DROPME: null, PYTHONPATH: '/new' },
      }),
      { builderDir: b, settings: { environment: workerEnv } },
    );
    const lines = textOf(updates, 'stdout').split('\n');
    assert.ok(lines.includes('LIST=/a:/b'));
    assert.ok(lines.includes('EXP=w-'));
    assert.ok(lines.includes('PYTHONPATH=/new:/old'));
    assert.ok(lines.includes(`PWD=${join(b, 'build')}`));
    assert.ok(!lines.some((l) => l.startsWith('DROPME=')));
  });

  it('fails the command (no rc) for a non-string env value (bb-worker #0199-#0201)', async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand('shell', shellArgs(['true'], { env: { FOO: 1 } }), {
      builderDir: b,
    });
    assert.ok(failure instanceof WorkerFailure);
    assert.equal(failure.pyType, 'builtins.RuntimeError');
    assert.equal(failure.message, "'env' values must be strings or lists; key 'FOO' is incorrect");
    assert.deepEqual(keysOf(updates), ['elapsed']);
  });

  it('reports a program that does not exist as stderr and rc 1', async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand('shell', shellArgs(['no-such-program-xyz']), {
      builderDir: b,
    });
    assert.equal(failure, null);
    assert.match(textOf(updates, 'stderr'), /no-such-program-xyz.*No such file or directory/);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
  });

  it('abandons the command when the process cannot be started at all', async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand('shell', shellArgs(['echo', 'nul\0byte']), {
      builderDir: b,
    });
    assert.ok(failure instanceof WorkerFailure);
    assert.equal(failure.pyType, 'buildbot_worker.exceptions.AbandonChain');
    assert.match(textOf(updates, 'stderr'), /^error in RunProcess._startCommand \(/);
    assert.deepEqual(valuesOf(updates, 'rc'), []);
    assert.equal(keysOf(updates).at(-1), 'elapsed');
  });

  it('fails when the workdir cannot be created', async () => {
    const { updates, failure } = await runCommand('shell', shellArgs(['true'], { workdir: 'sub/dir' }), {
      builderDir: unwritableDir(),
    });
    assert.ok(failure instanceof WorkerFailure);
    assert.match(failure.pyType, /PermissionError|FileNotFoundError|OSError/);
    assert.deepEqual(keysOf(updates), ['elapsed']);
  });

  it('honours want_stdout / want_stderr and writes initial_stdin', async () => {
    const b = tempDir();
    const { updates } = await runCommand(
      'shell',
      shellArgs('cat; echo err >&2', { want_stdout: 0, want_stderr: true, initial_stdin: 'piped in\n' }),
      { builderDir: b },
    );
    assert.equal(textOf(updates, 'stdout'), '');
    assert.equal(textOf(updates, 'stderr'), 'err\n');
    assert.ok(textOf(updates, 'header').includes(' writing 9 bytes to stdin\n'));
    const again = await runCommand('shell', shellArgs(['cat'], { initial_stdin: 'héllo' }), {
      builderDir: b,
    });
    assert.equal(textOf(again.updates, 'stdout'), 'héllo');
    // stdin is always closed: cat without initial_stdin ends at once
    const closed = await runCommand('shell', shellArgs(['cat']), { builderDir: b });
    assert.deepEqual(valuesOf(closed.updates, 'rc'), [0]);
  });

  it('shows obfuscated arguments but runs the real ones', async () => {
    const b = tempDir();
    const { updates } = await runCommand(
      'shell',
      shellArgs(['echo', ['obfuscated', 's3cret', 'XXXX']], { logEnviron: false }),
      { builderDir: b },
    );
    const header = textOf(updates, 'header');
    assert.ok(header.startsWith('echo XXXX\n'));
    assert.ok(header.includes(" argv: [b'echo', b'XXXX']\n"));
    assert.ok(!header.includes('s3cret'));
    assert.equal(textOf(updates, 'stdout'), 's3cret\n');
  });

  it('is killed after `timeout` seconds without output', async () => {
    const b = tempDir();
    const started = Date.now();
    const { updates, failure } = await runCommand('shell', shellArgs(['sleep', '30'], { timeout: 1 }), {
      builderDir: b,
    });
    assert.equal(failure, null);
    assert.ok(Date.now() - started < 10_000);
    const header = textOf(updates, 'header');
    assert.ok(
      header.includes(
        "\ncommand timed out: 1 seconds without output running [b'sleep', b'30'], attempting to kill\n" +
          'process killed by signal 9\n',
      ),
      header,
    );
    assert.ok(header.includes('(timeout 1 sec)'));
    assert.deepEqual(valuesOf(updates, 'rc'), [-1]);
  });

  it('output resets the timeout; maxTime still ends it', async () => {
    const b = tempDir();
    const { updates } = await runCommand(
      'shell',
      shellArgs('while true; do echo tick; sleep 0.1; done', { timeout: 1.5, maxTime: 3 }),
      { builderDir: b },
    );
    const header = textOf(updates, 'header');
    assert.ok(header.includes('command timed out: 3 seconds elapsed running'), header);
    assert.ok(textOf(updates, 'stdout').split('\n').length > 4);
    assert.deepEqual(valuesOf(updates, 'rc'), [-1]);
  });

  it('interrupt kills the whole process tree, sends rc -1 and no elapsed (bb-worker #0191-#0194)', async () => {
    const b = tempDir();
    const pidFile = join(b, 'grandchild.pid');
    const run = startCommand('shell', shellArgs(`sleep 60 & echo $! > ${pidFile}; wait`), { builderDir: b });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(grandchild));
    run.interrupt();
    const { updates, failure } = await run.result;
    assert.equal(failure, null);
    const header = textOf(updates, 'header');
    assert.ok(
      header.includes('\ncommand interrupted, attempting to kill\nprocess killed by signal 9\n'),
      header,
    );
    assert.deepEqual(valuesOf(updates, 'rc'), [-1]);
    assert.deepEqual(valuesOf(updates, 'elapsed'), []);
    await waitFor(() => !alive(grandchild));
  });

  it('kills descendants that left the process group (setsid)', async () => {
    const b = tempDir();
    const pidFile = join(b, 'escaped.pid');
    const run = startCommand(
      'shell',
      shellArgs(`setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' & sleep 60`),
      { builderDir: b },
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const escaped = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(escaped));
    run.interrupt();
    await run.result;
    await waitFor(() => !alive(escaped));
  });

  it('with sigtermTime sends SIGTERM first and lets the program clean up', async () => {
    const b = tempDir();
    const run = startCommand(
      'shell',
      shellArgs("trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done", {
        sigtermTime: 5,
      }),
      { builderDir: b },
    );
    await waitFor(() => textOf(run.updates, 'stdout').includes('ready'));
    run.interrupt();
    const { updates } = await run.result;
    assert.ok(textOf(updates, 'stdout').includes('got TERM'));
    // the program exited by itself after the TERM: its own status is reported
    assert.deepEqual(valuesOf(updates, 'rc'), [7]);
    assert.ok(!textOf(updates, 'header').includes('process killed by signal'));
  });

  it('with sigtermTime escalates to the interrupt signal when SIGTERM is ignored', async () => {
    const b = tempDir();
    const run = startCommand(
      'shell',
      shellArgs("trap '' TERM; echo ready; while true; do sleep 0.1; done", { sigtermTime: 0.5 }),
      { builderDir: b },
    );
    await waitFor(() => textOf(run.updates, 'stdout').includes('ready'));
    const started = Date.now();
    run.interrupt();
    const { updates } = await run.result;
    assert.ok(Date.now() - started >= 450);
    assert.ok(textOf(updates, 'header').includes('process killed by signal 9\n'));
    assert.deepEqual(valuesOf(updates, 'rc'), [-1]);
  });

  it('killAllProcessTrees ends even commands that are being stopped gently', async () => {
    const b = tempDir();
    const pidFile = join(b, 'stubborn.pid');
    const run = startCommand(
      'shell',
      shellArgs(`trap '' TERM; echo $$ > ${pidFile}; while true; do sleep 0.1; done`, { sigtermTime: 60 }),
      { builderDir: b },
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    run.interrupt();
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(alive(pid), 'SIGTERM is ignored, the gentle stop waits');
    killAllProcessTrees();
    await waitFor(() => !alive(pid));
    const { updates } = await run.result;
    assert.deepEqual(valuesOf(updates, 'rc'), [-1]);
  });

  it('uses the requested interruptSignal', async () => {
    const b = tempDir();
    const run = startCommand('shell', shellArgs(['sleep', '30'], { interruptSignal: 'INT' }), {
      builderDir: b,
    });
    await new Promise((r) => setTimeout(r, 100));
    run.interrupt();
    const { updates } = await run.result;
    assert.ok(textOf(updates, 'header').includes('process killed by signal 2\n'));
  });

  it('kills processes left behind in the group after the command exits', async () => {
    const b = tempDir();
    const pidFile = join(b, 'daemon.pid');
    const { updates } = await runCommand(
      'shell',
      shellArgs(`sleep 60 >/dev/null 2>&1 & echo $! > ${pidFile}`),
      { builderDir: b },
    );
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    const daemon = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(daemon));
  });

  it('can leave background processes running, as buildbot-worker does', async () => {
    const b = tempDir();
    const pidFile = join(b, 'daemon.pid');
    await runCommand('shell', shellArgs(`sleep 60 >/dev/null 2>&1 & echo $! > ${pidFile}`), {
      builderDir: b,
      settings: { killLeftovers: false },
    });
    const daemon = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(alive(daemon));
    process.kill(daemon, 'SIGKILL');
  });

  it('runs in a PTY when asked', async () => {
    const b = tempDir();
    const { updates } = await runCommand('shell', shellArgs('tty; echo "a b"; exit 4', { usePTY: true }), {
      builderDir: b,
    });
    const out = textOf(updates, 'stdout');
    assert.match(out, /^\/dev\/pts\/\d+\r?\n/);
    assert.ok(out.includes('a b'));
    assert.ok(textOf(updates, 'header').includes(' using PTY: True\n'));
    assert.deepEqual(valuesOf(updates, 'rc'), [4]);
  });

  it('runs PTY commands as given, whatever SHELL the worker has', async () => {
    const b = tempDir();
    const workerEnv = { PATH: '/usr/bin:/bin', SHELL: '/bin/false' };
    const { updates } = await runCommand(
      'shell',
      shellArgs(['sh', '-c', 'echo "$SHELL"; exit 5'], { usePTY: 1 }),
      {
        builderDir: b,
        settings: { environment: workerEnv },
      },
    );
    assert.equal(textOf(updates, 'stdout').replace(/\r/g, ''), '/bin/false\n');
    assert.deepEqual(valuesOf(updates, 'rc'), [5]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
    const unset = await runCommand('shell', shellArgs('echo "[${SHELL-unset}]"', { usePTY: true }), {
      builderDir: b,
      settings: { environment: { PATH: '/usr/bin:/bin' } },
    });
    assert.equal(textOf(unset.updates, 'stdout').replace(/\r/g, ''), '[unset]\n');
  });

  it('does not use a PTY together with initial_stdin', async () => {
    const b = tempDir();
    const { updates } = await runCommand('shell', shellArgs('cat', { usePTY: true, initial_stdin: 'x' }), {
      builderDir: b,
    });
    const header = textOf(updates, 'header');
    assert.ok(header.startsWith('WARNING: disabling usePTY for this command\n'));
    assert.ok(header.includes(' using PTY: False\n'));
    assert.equal(textOf(updates, 'stdout'), 'x');
  });

  it('follows log files while the command runs', async () => {
    const b = tempDir();
    const run = startCommand(
      'shell',
      shellArgs('echo first > live.log; sleep 0.6; echo second >> live.log; sleep 0.3', {
        logfiles: { live: { filename: 'live.log', follow: true } },
      }),
      { builderDir: b },
    );
    const { updates } = await run.result;
    const text = valuesOf(updates, 'log')
      .map((l) => (l as unknown[])[1])
      .join('');
    assert.equal(text, 'first\nsecond\n');
  });

  it('leaves no zombie children behind', async () => {
    const b = tempDir();
    const run = startCommand('shell', shellArgs('sleep 30 & sleep 30'), { builderDir: b });
    await new Promise((r) => setTimeout(r, 100));
    run.interrupt();
    await run.result;
    await runCommand('shell', shellArgs('true'), { builderDir: b });
    await new Promise((r) => setTimeout(r, 100));
    const zombies = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
          const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return { pid, state, ppid: Number(ppid) };
        } catch {
          return undefined;
        }
      })
      .filter((p) => p && p.ppid === process.pid && p.state === 'Z');
    assert.deepEqual(zombies, []);
  });

  it('rejects a missing required argument before starting', () => {
    assert.throws(
      () => startCommand('shell', { workdir: 'build' }, { builderDir: tempDir() }),
      (err: unknown) => err instanceof WorkerFailure && err.pyType === 'builtins.ValueError',
    );
  });
});
