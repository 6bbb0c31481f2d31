import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkerFailure } from '../src/protocol/failure.js';
import { isTuple } from '../src/protocol/values.js';
import { keysOf, runCommand, tempDir, textOf, unwritableDir, valuesOf } from './helpers.js';

describe('mkdir', () => {
  it('creates a directory with its parents (bb-worker #0025-#0028)', async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand('mkdir', { dir: 'build/subdir' }, { builderDir: b });
    assert.equal(failure, null);
    assert.deepEqual(keysOf(updates), ['rc', 'elapsed']);
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    assert.ok(statSync(join(b, 'build/subdir')).isDirectory());
    const again = await runCommand('mkdir', { dir: 'build/subdir', logEnviron: false }, { builderDir: b });
    assert.deepEqual(valuesOf(again.updates, 'rc'), [0], 'an existing directory is fine');
  });

  it('reports errno and a header when a file is in the way', async () => {
    const b = tempDir();
    writeFileSync(join(b, 'file'), '');
    const { updates } = await runCommand('mkdir', { dir: 'file' }, { builderDir: b });
    assert.deepEqual(valuesOf(updates, 'rc'), [17]);
    assert.equal(textOf(updates, 'header'), `mkdir: File exists: ${join(b, 'file')}`);
    const nested = await runCommand('mkdir', { dir: 'file/sub' }, { builderDir: b });
    assert.deepEqual(valuesOf(nested.updates, 'rc'), [20]);
    assert.equal(textOf(nested.updates, 'header'), `mkdir: Not a directory: ${join(b, 'file/sub')}`);
  });

  it('reports a permission error', async () => {
    const dir = unwritableDir();
    const { updates } = await runCommand('mkdir', { dir: 'lathe-test-dir' }, { builderDir: dir });
    const [rc] = valuesOf(updates, 'rc');
    assert.ok(rc === 13 || rc === 1, `rc ${rc}`);
    assert.match(textOf(updates, 'header'), /^mkdir: (Permission denied|Operation not permitted): /);
  });

  it('uses absolute paths as given', async () => {
    const b = tempDir();
    const elsewhere = join(tempDir(), 'abs');
    await runCommand('mkdir', { dir: elsewhere }, { builderDir: b });
    assert.ok(existsSync(elsewhere));
  });
});

describe('rmfile', () => {
  it('removes a file, and reports errno for a missing one (bb-worker #0154)', async () => {
    const b = tempDir();
    writeFileSync(join(b, 'gone.txt'), 'x');
    const ok = await runCommand('rmfile', { path: 'gone.txt', logEnviron: false }, { builderDir: b });
    assert.deepEqual(valuesOf(ok.updates, 'rc'), [0]);
    assert.ok(!existsSync(join(b, 'gone.txt')));
    const missing = await runCommand('rmfile', { path: 'gone.txt' }, { builderDir: b });
    assert.deepEqual(valuesOf(missing.updates, 'rc'), [2]);
    assert.equal(
      textOf(missing.updates, 'header'),
      `rmfile: No such file or directory: ${join(b, 'gone.txt')}`,
    );
  });

  it('refuses a directory', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'd'));
    const { updates } = await runCommand('rmfile', { path: 'd' }, { builderDir: b });
    assert.deepEqual(valuesOf(updates, 'rc'), [21]);
    assert.match(textOf(updates, 'header'), /^rmfile: Is a directory: /);
  });
});

describe('stat', () => {
  it('sends os.stat as a 10-tuple of ints (bb-worker #0111)', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build'));
    writeFileSync(join(b, 'build/hello.txt'), 'x'.repeat(34));
    const { updates } = await runCommand('stat', { file: 'build/hello.txt' }, { builderDir: b });
    assert.deepEqual(keysOf(updates), ['stat', 'rc', 'elapsed']);
    const [st] = valuesOf(updates, 'stat');
    assert.ok(isTuple(st));
    const fields = [...st] as number[];
    assert.equal(fields.length, 10);
    const real = statSync(join(b, 'build/hello.txt'));
    assert.equal(fields[0], real.mode);
    assert.equal(fields[0], 0o100000 | (real.mode & 0o7777));
    assert.equal(fields[1], real.ino);
    assert.equal(fields[6], 34);
    assert.equal(fields[8], Math.floor(real.mtimeMs / 1000));
    assert.ok(fields.every((f) => Number.isInteger(f)));
  });

  it('joins the optional workdir and reports a missing file as errno 2', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'wd'));
    writeFileSync(join(b, 'wd/f'), '');
    const ok = await runCommand('stat', { file: 'f', workdir: 'wd' }, { builderDir: b });
    assert.deepEqual(valuesOf(ok.updates, 'rc'), [0]);
    const { updates } = await runCommand('stat', { file: 'nope' }, { builderDir: b });
    assert.deepEqual(keysOf(updates), ['header', 'rc', 'elapsed']);
    assert.deepEqual(valuesOf(updates, 'rc'), [2]);
    assert.equal(textOf(updates, 'header'), `stat: No such file or directory: ${join(b, 'nope')}`);
  });
});

describe('listdir', () => {
  it('lists entry names (bb-worker #0145) and reports errors', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build/subdir'), { recursive: true });
    writeFileSync(join(b, 'build/hello.txt'), '');
    writeFileSync(join(b, 'build/.hidden'), '');
    const { updates } = await runCommand('listdir', { dir: 'build', logEnviron: false }, { builderDir: b });
    assert.deepEqual(keysOf(updates), ['files', 'rc', 'elapsed']);
    assert.deepEqual((valuesOf(updates, 'files')[0] as string[]).sort(), ['.hidden', 'hello.txt', 'subdir']);
    const missing = await runCommand('listdir', { dir: 'nope' }, { builderDir: b });
    assert.deepEqual(valuesOf(missing.updates, 'rc'), [2]);
    assert.match(textOf(missing.updates, 'header'), /^listdir: No such file or directory: /);
  });
});

describe('glob', () => {
  it('returns absolute matches, skipping hidden files (bb-worker #0135)', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build/sub/deeper'), { recursive: true });
    for (const f of ['hello.txt', 'mylog.txt', 'other.log', '.hidden.txt', 'sub/a.txt', 'sub/deeper/b.txt']) {
      writeFileSync(join(b, 'build', f), '');
    }
    const { updates } = await runCommand(
      'glob',
      { path: 'build/*.txt', logEnviron: false },
      { builderDir: b },
    );
    assert.deepEqual(keysOf(updates), ['files', 'rc', 'elapsed']);
    const files = (valuesOf(updates, 'files')[0] as string[]).sort();
    assert.deepEqual(files, [join(b, 'build/hello.txt'), join(b, 'build/mylog.txt')]);
  });

  it('supports ** recursion, ?, [] classes and literal paths', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build/sub/deeper'), { recursive: true });
    for (const f of ['a1.txt', 'a2.txt', 'b1.txt', 'sub/a.txt', 'sub/deeper/b.txt'])
      writeFileSync(join(b, 'build', f), '');
    const glob = async (path: string) => {
      const { updates } = await runCommand('glob', { path }, { builderDir: b });
      return (valuesOf(updates, 'files')[0] as string[]).map((f) => f.slice(b.length + 1)).sort();
    };
    assert.deepEqual(await glob('build/**/*.txt'), [
      'build/a1.txt',
      'build/a2.txt',
      'build/b1.txt',
      'build/sub/a.txt',
      'build/sub/deeper/b.txt',
    ]);
    assert.deepEqual(await glob('build/a?.txt'), ['build/a1.txt', 'build/a2.txt']);
    assert.deepEqual(await glob('build/[!a]*.txt'), ['build/b1.txt']);
    assert.deepEqual(await glob('build/*/*.txt'), ['build/sub/a.txt']);
    assert.deepEqual(await glob('build/sub/**'), [
      'build/sub/',
      'build/sub/a.txt',
      'build/sub/deeper',
      'build/sub/deeper/b.txt',
    ]);
    assert.deepEqual(await glob('build/a1.txt'), ['build/a1.txt']);
    assert.deepEqual(await glob('build/nothing*'), []);
    assert.deepEqual(await glob('nope/*'), []);
  });
});

describe('rmdir', () => {
  it('runs rm -rf in the worker basedir without its own rc (bb-worker #0165-#0167)', async () => {
    const base = tempDir();
    const b = join(base, 'demo');
    mkdirSync(join(b, 'build/subdir-copy/x'), { recursive: true });
    writeFileSync(join(b, 'build/subdir-copy/x/f'), '');
    const { updates, failure } = await runCommand(
      'rmdir',
      { dir: 'build/subdir-copy' },
      { builderDir: b, workerBasedir: base, settings: { environment: { PATH: '/usr/bin:/bin' } } },
    );
    assert.equal(failure, null);
    assert.ok(!existsSync(join(b, 'build/subdir-copy')));
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    const header = textOf(updates, 'header');
    const target = join(b, 'build/subdir-copy');
    assert.ok(
      header.startsWith(`rm -rf ${target}\n in dir ${base} (timeout 120 secs)\n watching logfiles {}\n`),
    );
    assert.ok(
      header.includes(
        ` argv: [b'rm', b'-rf', b'${target}']\n environment:\n  PATH=/usr/bin:/bin\n  PWD=${base}\n`,
      ),
    );
    assert.match(header, /elapsedTime=\d+\.\d+\n$/);
    assert.deepEqual(keysOf(updates).slice(-2), ['rc', 'elapsed']);
  });

  it('removes several directories and repairs permissions before retrying', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'one/locked/inner'), { recursive: true });
    writeFileSync(join(b, 'one/locked/inner/f'), '');
    mkdirSync(join(b, 'two'));
    chmodSync(join(b, 'one/locked'), 0o500);
    const { updates } = await runCommand(
      'rmdir',
      { dir: ['one', 'two', 'never-existed'], logEnviron: false },
      {
        builderDir: b,
      },
    );
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    assert.ok(!existsSync(join(b, 'one')));
    assert.ok(!existsSync(join(b, 'two')));
  });

  it('reports the rm exit code when removal is impossible', async () => {
    const { updates } = await runCommand(
      'rmdir',
      { dir: '/proc/self/status', logEnviron: false },
      {
        builderDir: tempDir(),
      },
    );
    const [rc] = valuesOf(updates, 'rc');
    assert.notEqual(rc, 0);
    assert.ok(textOf(updates, 'header').includes("argv: [b'chmod', b'-Rf', b'u+rwx', b'/proc/self/status']"));
  });
});

describe('cpdir', () => {
  it('copies with cp -R -P -p -v and reports its output (bb-worker #0120-#0126)', async () => {
    const base = tempDir();
    const b = join(base, 'demo');
    mkdirSync(join(b, 'build/subdir'), { recursive: true });
    writeFileSync(join(b, 'build/subdir/inner.txt'), 'inner\n');
    symlinkSync('inner.txt', join(b, 'build/subdir/link'));
    const { updates, failure } = await runCommand(
      'cpdir',
      { fromdir: 'build/subdir', todir: 'copies/deep/subdir-copy', timeout: 120 },
      { builderDir: b, workerBasedir: base },
    );
    assert.equal(failure, null);
    assert.equal(readFileSync(join(b, 'copies/deep/subdir-copy/inner.txt'), 'utf8'), 'inner\n');
    assert.ok(statSync(join(b, 'copies/deep/subdir-copy/link')).isFile());
    const from = join(b, 'build/subdir');
    const to = join(b, 'copies/deep/subdir-copy');
    assert.ok(
      textOf(updates, 'header').startsWith(
        `cp -R -P -p -v ${from} ${to}\n in dir ${base} (timeout 120 secs)\n`,
      ),
    );
    assert.ok(textOf(updates, 'stdout').includes(`'${from}/inner.txt' -> '${to}/inner.txt'`));
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    assert.deepEqual(keysOf(updates).slice(-2), ['rc', 'elapsed']);
  });

  it("reports cp's exit code for a missing source", async () => {
    const b = tempDir();
    const { updates, failure } = await runCommand(
      'cpdir',
      { fromdir: 'nope', todir: 'x', logEnviron: false },
      {
        builderDir: b,
      },
    );
    assert.equal(failure, null);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
    assert.match(textOf(updates, 'stderr'), /No such file or directory/);
  });

  it('fails when the target parent cannot be created', async () => {
    const { failure } = await runCommand(
      'cpdir',
      { fromdir: '/etc/hostname', todir: 'a/b/c' },
      {
        builderDir: unwritableDir(),
      },
    );
    assert.ok(failure instanceof WorkerFailure);
  });
});
