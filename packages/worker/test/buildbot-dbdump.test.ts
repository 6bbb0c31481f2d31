/**
 * The harness's reader of a Buildbot master's database (test/buildbot/dbdump.py) and
 * the normalisation of what it returns, on a small fixture database whose log chunks
 * use every compression Buildbot writes (raw, gz, bz2, lz4).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { asset, PYTHON } from './buildbot/harness.js';
import { makeNormaliser, normaliseBuild, type RawBuild } from './buildbot/normalise.js';

describe('dbdump.py + normalisation', () => {
  let dir: string;
  let db: string;
  const dump = (...args: string[]) =>
    JSON.parse(execFileSync(PYTHON, [asset('dbdump.py'), db, ...args], { encoding: 'utf8' }));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lathe-dbdump-'));
    db = join(dir, 'state.sqlite');
    execFileSync(PYTHON, [asset('fixture_db.py'), db]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes raw, gz, bz2 and lz4 chunks in line order', () => {
    const [build] = dump('full') as RawBuild[];
    const log = build?.steps?.[0]?.logs[0];
    assert.equal(
      log?.text,
      'hcommand line\nostdout 1\nostdout 2 é\neerr 1\no\nhelapsedTime=1.5\no3\nelast err\nolast\n',
    );
    assert.equal(build?.steps?.[0]?.logs[1]?.text, 'all good\n');
  });

  it('splits stream logs by channel and masks run-specific text', () => {
    const [build] = dump('full') as RawBuild[];
    const norm = makeNormaliser({ 'stdout 2': '<X>' });
    assert.deepEqual(normaliseBuild(build!, norm), {
      result: 'FAILURE',
      stateString: 'failed',
      steps: {
        shell: {
          result: 'FAILURE',
          stateString: 'failed',
          logs: {
            stdio: {
              type: 'stream',
              header: 'command line\nelapsedTime=<ELAPSED>\n',
              stdout: 'stdout 1\n<X> é\n\n3\nlast\n',
              stderr: 'err 1\nlast err\n',
            },
            summary: { type: 'text', text: 'all good\n' },
          },
        },
      },
    });
  });

  it('lists builds and connected workers; reports log sizes', () => {
    assert.deepEqual(dump('builds'), [
      {
        id: 1,
        number: 1,
        results: 2,
        state_string: 'failed',
        started_at: 1000,
        complete_at: 1010,
        builder: 'b',
      },
    ]);
    assert.deepEqual(dump('workers'), ['w1']);
    assert.deepEqual(dump('logstats', '1'), {
      bytes: 82,
      lines: 9,
      channelBytes: { h: 29, o: 29, e: 15 },
    });
    const [big] = dump('full', '5') as RawBuild[];
    assert.equal(big?.steps?.[0]?.logs[0]?.text, null);
    assert.equal(big?.steps?.[0]?.logs[1]?.text, 'all good\n');
  });
});
