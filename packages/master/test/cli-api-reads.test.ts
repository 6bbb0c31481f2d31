// `lathe builds`, `lathe show` and `lathe log` read through the data API of a master
// started with the real `lathe` command (www configured), with a real Lathe worker and
// real builds: a failing build with warnings and a failed test, and a build whose log is
// followed while its step still runs. Also: the errors for a master that is down or serves
// no www, and the token sent to a remote master.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createWorker, type TestWorker, waitFor, workerAvailable } from './bbworker.js';
import { alive, lathe, MAIN } from './cli-helpers.js';
import { tempDir } from './helpers.js';
import { useTestDatabase } from './test-database.js';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const WARN = 'echo "util.c:3:5: warning: unused variable x"';
const TAP = "printf 'ok 1 - parses\\nnot ok 2 - adds numbers\\n1..2\\n'; exit 1";
// Prints one line, then waits for a file the test writes, then two more.
const STREAM =
  'echo "first line"; while [ ! -f go ]; do sleep 0.05; done; echo "second line"; echo "third line"';

function configText(port: number, wwwPort: number): string {
  return `import { buildFactory, compile, defineConfig, shellCommand, test } from '@lathe/master';
export default defineConfig({
  workerPort: ${port},
  www: { port: ${wwwPort} },
  workers: [{ name: 'w1', password: 'pw-1' }],
  builders: [
    {
      name: 'failing',
      workerNames: ['w1'],
      factory: buildFactory(
        compile({ name: 'compile', command: ${JSON.stringify(WARN)} }),
        test({ name: 'unit tests', format: 'tap', command: ${JSON.stringify(TAP)} }),
      ),
    },
    { name: 'streaming', workerNames: ['w1'], factory: buildFactory(shellCommand({ name: 'stream', command: ${JSON.stringify(STREAM)} })) },
  ],
  db: { url: 'sqlite:state.sqlite' },
});
`;
}

describe('lathe builds, show and log through the data API', { skip: !workerAvailable('lathe') }, () => {
  const tmp = tempDir('lathe-cli-api-');
  const dir = join(tmp.path, 'master');
  const workerDir = join(tmp.path, 'worker');
  let worker: TestWorker | undefined;
  let pid = 0;
  let wwwPort = 0;

  before(async () => {
    const port = await freePort();
    wwwPort = await freePort();
    const created = await lathe(['create-master', dir, '--worker-port', String(port)]);
    assert.equal(created.code, 0, created.stderr);
    writeFileSync(join(dir, 'master.config.ts'), configText(port, wwwPort));
    await useTestDatabase(dir);
    const started = await lathe(['start', dir], { timeoutMs: 120_000 });
    assert.equal(started.code, 0, `${started.stdout}\n${started.stderr}`);
    pid = Number(readFileSync(join(dir, 'lathe.pid'), 'utf8'));
    worker = createWorker('lathe', workerDir, 'w1', 'pw-1', port);
    worker.start();
    await waitFor(
      async () => (await lathe(['status', dir])).stdout.includes('w1                   idle'),
      60_000,
      'the worker',
    );
    const failing = await lathe(['force', 'failing', '--dir', dir, '--timeout', '60']);
    assert.equal(failing.code, 1, `${failing.stdout}\n${failing.stderr}`);
  });

  after(async () => {
    await worker?.kill();
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    tmp.cleanup();
  });

  it('lists the latest builds, of every builder or of one', async () => {
    const all = await lathe(['builds', '--dir', dir]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^failing #1 +FAILURE +\d+s +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}build failure$/m);
    const one = await lathe(['builds', 'failing', '--dir', dir, '--json']);
    assert.equal(one.code, 0, one.stderr);
    const builds = JSON.parse(one.stdout) as { number: number; results: number; complete: boolean }[];
    assert.deepEqual(
      builds.map((b) => [b.number, b.results, b.complete]),
      [[1, 2, true]],
    );
    const none = await lathe(['builds', 'nosuch', '--dir', dir]);
    assert.equal(none.code, 1);
    assert.equal(none.stderr.trim(), 'lathe builds: no builder "nosuch"');
  });

  it('shows a build: steps with summaries, failed tests and warnings', async () => {
    const r = await lathe(['show', 'failing', '1', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^failing #1: FAILURE \(build failure\)$/);
    assert.match(lines[1]!, /^ {2}started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, took \d+s, on worker w1$/);
    assert.deepEqual(
      lines.slice(2).map((l) => l.replace(/ +\d+s +/, ' <t> ')),
      [
        'steps (2):',
        '   0 compile              WARNINGS <t> compile warnings',
        '   1 unit tests           FAILURE <t> unit tests failure',
        'tests of unit tests: 1 passed, 1 failed, 0 skipped (2 in all)',
        '  failed tests:',
        '    adds numbers',
        'warnings in compile (1):',
        '  util.c:3:5: warning: unused variable x',
        '',
      ],
    );
    const missing = await lathe(['show', 'failing', '9', '--dir', dir]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), 'lathe show: no build #9 of failing');
  });

  it('prints a step’s log by step name or number and log name, locally or with --url', async () => {
    const byName = await lathe(['log', 'failing', '1', 'unit tests', '--dir', dir]);
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /^ok 1 - parses\nnot ok 2 - adds numbers\n1\.\.2\n/m);
    const remote = await lathe(
      ['log', 'failing', '1', '1', 'failed tests', '--url', `http://127.0.0.1:${wwwPort}/`],
      {
        cwd: tmp.path,
      },
    );
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout, 'adds numbers\n');
    const noLog = await lathe(['log', 'failing', '1', 'compile', 'nosuch', '--dir', dir]);
    assert.equal(noLog.code, 1);
    assert.match(
      noLog.stderr,
      /^lathe log: no log "nosuch" in step "compile" \(its logs: "stdio", "warnings \(1\)"\)$/m,
    );
  });

  it('follows a log while its step runs, until it is finished', async () => {
    const forced = await lathe(['force', 'streaming', '--dir', dir, '--no-wait']);
    assert.equal(forced.code, 0, forced.stderr);
    // Started before the step may even exist: it waits for it.
    const child = spawn(
      process.execPath,
      [MAIN, 'log', 'streaming', '1', 'stream', '--follow', '--dir', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      // Line-anchored: the header lines repeat the command.
      await waitFor(() => /^first line$/m.test(out), 60_000, `the first line (${out} ${err})`);
      assert.equal(child.exitCode, null, 'still following while the step runs');
      assert.doesNotMatch(out, /^second line$/m);
      writeFileSync(join(workerDir, 'streaming', 'build', 'go'), '');
      assert.equal(await exited, 0, err);
      // The shell step's header lines come first; the command's output follows live.
      assert.match(out, /^first line\nsecond line\nthird line$/m);
      assert.ok(
        out.endsWith('third line\nprogram finished with exit code 0\nelapsedTime=') ||
          /exit code 0/.test(out),
        out,
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('lathe read commands without a data API', () => {
  const tmp = tempDir('lathe-cli-api-errors-');
  after(() => tmp.cleanup());

  it('says when www is not configured, and when the master is not running', async () => {
    const plain = join(tmp.path, 'plain');
    assert.equal((await lathe(['create-master', plain, '--worker-port', '0'])).code, 0);
    const r = await lathe(['builds', '--dir', plain]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^lathe builds: .*master\.config\.ts has no www setting, so the master serves no data API/,
    );
    const down = join(tmp.path, 'down');
    const port = await freePort();
    assert.equal(
      (await lathe(['create-master', down, '--worker-port', '0', '--www-port', String(port)])).code,
      0,
    );
    const d = await lathe(['show', 'x', '1', '--dir', down]);
    assert.equal(d.code, 1);
    assert.equal(
      d.stderr.trim(),
      `lathe show: cannot reach the data API at http://127.0.0.1:${port}/api/v2/builders/x (ECONNREFUSED): is the master running? (lathe start ${down})`,
    );
  });

  it('sends --token as a bearer token and says when the master refuses it', async () => {
    const seen: (string | undefined)[] = [];
    const server = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"token revoked"}');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await lathe(['builds', '--url', url, '--token', 's3cret']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), 'lathe builds: the master refused (401): token revoked (pass --token)');
      assert.deepEqual(seen, ['Bearer s3cret']);
      assert.ok(!existsSync(join(tmp.path, 's3cret')));
    } finally {
      server.close();
    }
  });
});
