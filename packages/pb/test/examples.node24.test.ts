// The runnable examples in examples/pb stay runnable: each runs to completion and says
// what its comment promises. (Node 24 runs the .ts files directly, so not on Node 20.)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../src/index.js';

const examples = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../examples/pb');
const run = (name: string) =>
  execFileSync(process.execPath, [`${examples}/${name}`], { encoding: 'utf8', timeout: 30_000 });

describe('examples/pb', () => {
  it('callbacks.ts: the server calls the client back', () => {
    const out = run('callbacks.ts');
    assert.match(out, /ada heard: the build is green/);
    assert.match(out, /answers: \[ 'ada ok', 'bob ok' \]/);
  });
  it('copy-and-cache.ts: a copy arrives, a cache follows changes', () => {
    const out = run('copy-and-cache.ts');
    assert.match(out, /last build: linux #42: success/);
    assert.match(out, /queue length seen by the client: 4/);
  });
  it('login.ts: login, callback through the mind, refused password, logout', () => {
    const out = run('login.ts');
    assert.match(out, /whoami: ada/);
    assert.match(out, /pokeMe: client got "hello ada"/);
    assert.match(out, /wrong password: twisted.cred.error.UnauthorizedLogin/);
    assert.match(out, /ada logged out/);
  });
  it('echo-server.ts: serves echo and add on the port it is given', async () => {
    const child = spawn(process.execPath, [`${examples}/echo-server.ts`, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on [\d.]+:(\d+)/.exec(out);
          if (m) ok(Number(m[1]));
        });
        child.on('exit', (code) => fail(new Error(`echo-server exited with ${code}`)));
      });
      const conn = await connect({ host: '127.0.0.1', port });
      assert.deepEqual(await conn.root().callRemote('echo', ['x', 1]), ['x', 1]);
      assert.equal(await conn.root().callRemote('add', 2, 3), 5);
      conn.close();
    } finally {
      child.kill();
    }
  });
  it('echo-server.ts: refuses a bad --port', () => {
    assert.throws(
      () =>
        execFileSync(process.execPath, [`${examples}/echo-server.ts`, '--port', 'nope'], { stdio: 'pipe' }),
      (e: { status?: number; stderr?: Buffer }) =>
        e.status === 2 && /--port must be a number/.test(String(e.stderr)),
    );
  });
});
