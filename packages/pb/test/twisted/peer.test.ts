// Guards the Twisted side of the interop harness itself (Twisted client -> Twisted server, driven
// through peer.ts). Needs /usr/bin/python3 with Twisted (./dev test installs it). Does not use @lathe/pb.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTwistedClient, startTwistedServer, twistedAvailable } from './peer.js';

test('Twisted is installed for /usr/bin/python3 (./dev test installs python3-twisted)', () => {
  assert.ok(twistedAvailable());
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('pbpeer.py: every client scenario passes against pbpeer.py --serve', {
  timeout: 120_000,
}, async () => {
  const server = await startTwistedServer({ rootMethods: true });
  try {
    assert.ok(server.port > 0);
    // 'all' = the scenarios meant for the TS echo server; 'calc' = the Python server's own API
    for (const scenario of ['all', 'calc']) {
      const { checks, code, stderr } = await runTwistedClient(server.port, scenario);
      const failed = checks.filter((c) => !c.ok);
      assert.deepEqual(failed, [], `${scenario}: ${JSON.stringify(failed)}\n${stderr}`);
      assert.ok(checks.length > 10, `${scenario}: only ${checks.length} checks`);
      assert.equal(code, 0, stderr);
    }
  } finally {
    await server.stop();
  }
  assert.equal(alive(server.pid), false, 'server process still running after stop()');
});

test('pbpeer.py client reports a refused connection as a failed check', {
  timeout: 60_000,
}, async () => {
  const server = await startTwistedServer();
  const port = server.port;
  await server.stop();
  const { checks, code } = await runTwistedClient(port, 'add', { callTimeoutS: 5 });
  assert.notEqual(code, 0);
  assert.equal(checks[0]?.check, 'connect');
  assert.equal(checks[0]?.ok, false);
});
