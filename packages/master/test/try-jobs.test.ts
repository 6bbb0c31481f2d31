// Try job files and try scheduler configs: job files made by stock Buildbot 3.7's own
// tryclient code (versions 5 and 6, text and binary patches) and the older versions by
// hand parse to the same job; broken files are refused with the reason; only allowed
// builders are built; bad try scheduler entries are refused with the field named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { validateConfig } from '../src/config/validate.js';
import { ChangeScheduler } from '../src/schedulers/change-scheduler.js';
import { allowedBuilders, BadTryJobError } from '../src/schedulers/try/job.js';
import { MAX_JOB_FILE_BYTES, parseJobFile } from '../src/schedulers/try/job-file.js';
import { startMaster, tempDir } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const hasBuildbot = existsSync('/usr/lib/python3/dist-packages/buildbot/clients/tryclient.py');

/** A job file as `buildbot try --connect=ssh` 3.7 writes it, from its own createJobfile. */
function stockJobFile(patchHex: string, branch: string, baserev: string): Buffer {
  const script = `
import sys
from buildbot.clients.tryclient import createJobfile
job = createJobfile('1700000000.5-42', ${JSON.stringify(branch)}, ${JSON.stringify(baserev)}, 1,
                    bytes.fromhex(${JSON.stringify(patchHex)}), 'https://example.invalid/r.git', 'proj',
                    'Alice', 'a comment', ['app', 'lint'], {'color': 'blue'})
sys.stdout.buffer.write(job.encode('utf-8'))
`;
  return execFileSync(PYTHON, ['-c', script]);
}

const ns = (s: string | Buffer) =>
  Buffer.concat([Buffer.from(`${Buffer.byteLength(s)}:`), Buffer.from(s), Buffer.from(',')]);

describe('try job files', () => {
  it('version 5 (text patch) from stock tryclient', { skip: !hasBuildbot }, () => {
    const patch = '--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\n+new ünïcode\n';
    const job = parseJobFile(stockJobFile(Buffer.from(patch).toString('hex'), 'main', 'abc123'));
    assert.deepEqual(
      { ...job, patchBody: job.patchBody.toString('utf8') },
      {
        jobid: '1700000000.5-42',
        branch: 'main',
        baserev: 'abc123',
        patchLevel: 1,
        patchBody: patch,
        repository: 'https://example.invalid/r.git',
        project: 'proj',
        who: 'Alice',
        comment: 'a comment',
        builderNames: ['app', 'lint'],
        properties: { color: 'blue' },
      },
    );
  });

  it('version 6 (a patch that is not UTF-8) from stock tryclient; empty branch and revision mean none', {
    skip: !hasBuildbot,
  }, () => {
    const bytes = Buffer.from([0x2d, 0xff, 0xfe, 0x00, 0x0a]);
    const file = stockJobFile(bytes.toString('hex'), '', '');
    assert.match(file.toString('latin1'), /^1:6,/);
    const job = parseJobFile(file);
    assert.deepEqual(job.patchBody, bytes);
    assert.equal(job.branch, null);
    assert.equal(job.baserev, null);
  });

  it('versions 1 to 4: fields as netstrings, then builder names', () => {
    const v1 = parseJobFile(
      Buffer.concat([ns('1'), ns('j1'), ns('dev'), ns('r1'), ns('0'), ns('PATCH'), ns('b1'), ns('b2')]),
    );
    assert.deepEqual(
      { ...v1, patchBody: v1.patchBody.toString() },
      {
        jobid: 'j1',
        branch: 'dev',
        baserev: 'r1',
        patchLevel: 0,
        patchBody: 'PATCH',
        repository: '',
        project: '',
        who: '',
        comment: '',
        builderNames: ['b1', 'b2'],
        properties: {},
      },
    );
    const v4 = parseJobFile(
      Buffer.concat([
        ns('4'),
        ns('j4'),
        ns(''),
        ns(''),
        ns('1'),
        ns('P'),
        ns('repo'),
        ns('proj'),
        ns('me'),
        ns('why'),
        ns('b1'),
      ]),
    );
    assert.deepEqual(
      [v4.branch, v4.repository, v4.project, v4.who, v4.comment, v4.builderNames],
      [null, 'repo', 'proj', 'me', 'why', ['b1']],
    );
  });

  it('refuses broken files with the reason', () => {
    const bad = (data: Buffer | string, reason: RegExp) =>
      assert.throws(
        () => parseJobFile(Buffer.from(data)),
        (e: unknown) => e instanceof BadTryJobError && reason.test(e.message),
      );
    bad('', /no netstrings/);
    bad('5:hello', /cut short or lacks its closing comma/);
    bad('x:1,', /not a netstring/);
    bad(Buffer.concat([ns('9'), ns('{}')]), /unknown job file version "9"/);
    bad(Buffer.concat([ns('5'), ns('{not json')]), /not JSON/);
    bad(Buffer.concat([ns('5'), ns('[]')]), /must be a JSON object/);
    bad(Buffer.concat([ns('5'), ns('{"patch_level": 1}')]), /patch_body must be text/);
    bad(Buffer.concat([ns('5'), ns('{"patch_level": "x", "patch_body": ""}')]), /patch_level/);
    bad(Buffer.concat([ns('6'), ns('{"patch_level": 1, "patch_body_base64": "!!"}')]), /base64/);
    bad(
      Buffer.concat([ns('5'), ns('{"patch_level": 1, "patch_body": "", "builderNames": [1]}')]),
      /builderNames/,
    );
    bad(Buffer.concat([ns('2'), ns('j'), ns('b')]), /expected 7 fields, got 2/);
    bad(Buffer.alloc(MAX_JOB_FILE_BYTES + 1, 0x20), /larger than/);
  });
});

describe('try builders', () => {
  it('asked-for builders must all be allowed; none asked means all allowed', () => {
    assert.deepEqual(allowedBuilders([], ['a', 'b']), ['a', 'b']);
    assert.deepEqual(allowedBuilders(['b'], ['a', 'b']), ['b']);
    assert.deepEqual(allowedBuilders(['b', 'c'], ['a', 'b']), []);
  });
});

describe('try scheduler config', () => {
  const base = {
    workers: [{ name: 'w', password: 'p' }],
    builders: [{ name: 'app', workerNames: ['w'], factory: { steps: [] } }],
  };
  const issues = (schedulers: unknown[]): string[] => {
    try {
      validateConfig({ ...base, schedulers }, '/x/master.config.ts');
      return [];
    } catch (err) {
      return (err as { issues: { path: string; message: string }[] }).issues.map(
        (i) => `${i.path}: ${i.message}`,
      );
    }
  };

  it('accepts both kinds', () => {
    assert.deepEqual(
      issues([
        { kind: 'Try_Jobdir', name: 'j', builderNames: ['app'], jobdir: 'jobs' },
        { kind: 'Try_Userpass', name: 'u', builderNames: ['app'], userpass: [['alice', 'pw']] },
      ]),
      [],
    );
  });

  it('refuses a try user that is also a worker or a PB change source user', () => {
    const clash = (schedulers: unknown[], extra: Record<string, unknown> = {}) => {
      try {
        validateConfig({ ...base, ...extra, schedulers }, '/x/master.config.ts');
        return [];
      } catch (err) {
        return (err as { issues: { message: string }[] }).issues.map((i) => i.message);
      }
    };
    assert.deepEqual(
      clash([{ kind: 'Try_Userpass', name: 'u', builderNames: ['app'], userpass: [['w', 'pw']] }]),
      [`try scheduler "u": user "w" is also a worker's name on the worker port`],
    );
    assert.deepEqual(
      clash([{ kind: 'Try_Userpass', name: 'u', builderNames: ['app'], userpass: [['change', 'pw']] }], {
        changeSources: [{ type: 'pb', name: 'pb', user: 'change', passwd: 'x', prefix: null }],
      }),
      [`try scheduler "u": user "change" is also a PB change source's name on the worker port`],
    );
  });

  it('refuses unknown builders, missing jobdir or userpass, bad pairs and unknown fields', () => {
    assert.deepEqual(
      issues([
        { kind: 'Try_Jobdir', name: 'j', builderNames: ['nope'], jobdirr: 'x' },
        { kind: 'Try_Userpass', name: 'u', builderNames: ['app'], userpass: [['alice', '']] },
        { kind: 'Try_Userpass', name: 'v', builderNames: ['app'] },
      ]),
      [
        'schedulers["j"].jobdirr: unknown field',
        'schedulers["j"].builderNames: names unknown builder "nope"',
        'schedulers["j"].jobdir: must be a directory (relative to the master directory)',
        'schedulers["u"].userpass: must list [user, password] pairs of non-empty strings',
        'schedulers["v"].userpass: must list [user, password] pairs',
      ],
    );
  });
});

describe('try schedulers across a reconfig', () => {
  const dir = tempDir('lathe-try-reconfig-');
  after(() => dir.cleanup());
  const lathe = pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.js')).href;
  const configFile = join(dir.path, 'master.config.ts');
  const config = (
    schedulers: string,
  ) => `import { buildFactory, defineConfig, singleBranchScheduler, tryJobdirScheduler, tryUserpassScheduler } from '${lathe}';
const step = { name: 'compile', async run() { return 0 as const; } };
export default defineConfig({
  workers: [{ name: 'w1', password: 'pw' }],
  builders: [{ name: 'b1', workerNames: ['w1'], factory: buildFactory(step) }],
  schedulers: [${schedulers}],
});
`;

  it('users follow the config; the job directory is made; a scheduler that changes kind is replaced', async () => {
    writeFileSync(
      configFile,
      config(`tryUserpassScheduler({ name: 't', builderNames: ['b1'], userpass: [['alice', 'one']] }),
    tryJobdirScheduler({ name: 'j', builderNames: ['b1'], jobdir: 'jobs' })`),
    );
    const master = await startMaster({ basedir: dir.path, name: 'try-reconfig' });
    try {
      assert.equal(master.pbUsers.get('alice')?.password, 'one');
      for (const sub of ['tmp', 'new', 'cur']) assert.ok(existsSync(join(dir.path, 'jobs', sub)), sub);

      writeFileSync(
        configFile,
        config(`tryUserpassScheduler({ name: 't', builderNames: ['b1'], userpass: [['bob', 'two']] })`),
      );
      let r = await master.reconfig();
      assert.ok(r.ok, r.ok ? '' : String(r.error));
      assert.deepEqual([r.schedulers.reconfigured, r.schedulers.removed], [['t'], ['j']]);
      assert.equal(master.pbUsers.get('alice'), undefined);
      assert.equal(master.pbUsers.get('bob')?.password, 'two');

      writeFileSync(
        configFile,
        config(`singleBranchScheduler({ name: 't', branch: 'main', builderNames: ['b1'] })`),
      );
      // A scheduler that changes kind is replaced: the try scheduler's users go with it.
      r = await master.reconfig();
      assert.ok(r.ok, r.ok ? '' : String(r.error));
      assert.equal(master.pbUsers.get('bob'), undefined);
      assert.ok(master.schedulers.get('t') instanceof ChangeScheduler);
    } finally {
      await master.stop();
    }
  });
});
