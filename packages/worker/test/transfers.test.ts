import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkerFailure } from '../src/protocol/failure.js';
import { isTuple, PyFloat } from '../src/protocol/values.js';
import {
  FixedReader,
  keysOf,
  RecordingWriter,
  remotesFor,
  runCommand,
  startCommand,
  tempDir,
  textOf,
  valuesOf,
} from './helpers.js';

function uploadArgs(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    workdir: 'build',
    writer: 'writer-ref',
    maxsize: null,
    blocksize: 262144,
    keepstamp: false,
    ...extra,
  };
}

describe('uploadFile', () => {
  it('writes blocks, closes, then sets times (bb-worker #0080-#0091)', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build'));
    const path = join(b, 'build/hello.txt');
    const content = 'hello from the master\nsecond line\n'.repeat(100);
    writeFileSync(path, content);
    utimesSync(path, 1795478389.5, 1795478389.25);
    const writer = new RecordingWriter();
    const { updates, failure } = await runCommand(
      'uploadFile',
      uploadArgs({ workersrc: 'hello.txt', blocksize: 1000, keepstamp: true }),
      { builderDir: b, remotes: remotesFor({ writer }) },
    );
    assert.equal(failure, null);
    assert.equal(writer.data.toString(), content);
    assert.deepEqual(
      writer.calls.map(([m]) => m),
      ['write', 'write', 'write', 'write', 'close', 'utime'],
    );
    assert.ok(writer.calls.filter(([m]) => m === 'write').every(([, n]) => (n as number) <= 1000));
    const times = writer.calls.at(-1)![1];
    assert.ok(isTuple(times));
    assert.deepEqual(
      [...times].map((t) => (t instanceof PyFloat ? t.value : t)),
      [1795478389.5, 1795478389.25],
    );
    assert.deepEqual(keysOf(updates), ['header', 'rc', 'elapsed']);
    assert.equal(textOf(updates, 'header'), `sending ${path}\n`);
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
  });

  it('accepts the pre-3.0 argument name slavesrc and expands ~', async () => {
    const home = tempDir();
    writeFileSync(join(home, 'f.txt'), 'data');
    const writer = new RecordingWriter();
    const previousHome = process.env.HOME;
    process.env.HOME = home;
    try {
      const { updates } = await runCommand('uploadFile', uploadArgs({ slavesrc: '~/f.txt' }), {
        builderDir: tempDir(),
        remotes: remotesFor({ writer }),
      });
      assert.deepEqual(valuesOf(updates, 'rc'), [0]);
    } finally {
      process.env.HOME = previousHome;
    }
    assert.equal(writer.data.toString(), 'data');
  });

  it('reports a missing file with rc 1 and stderr, and still closes the writer', async () => {
    const b = tempDir();
    const writer = new RecordingWriter();
    const { updates, failure } = await runCommand('uploadFile', uploadArgs({ workersrc: 'nope.txt' }), {
      builderDir: b,
      remotes: remotesFor({ writer }),
    });
    assert.equal(failure, null);
    assert.deepEqual(writer.calls, [['close']]);
    assert.deepEqual(keysOf(updates), ['header', 'rc', 'stderr', 'elapsed']);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
    assert.equal(textOf(updates, 'stderr'), `Cannot open file '${join(b, 'build/nope.txt')}' for upload`);
  });

  it('truncates at maxsize with rc 1, but a file of exactly maxsize is fine', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build'));
    writeFileSync(join(b, 'build/big'), 'x'.repeat(100));
    const writer = new RecordingWriter();
    const cut = await runCommand('uploadFile', uploadArgs({ workersrc: 'big', maxsize: 60, blocksize: 25 }), {
      builderDir: b,
      remotes: remotesFor({ writer }),
    });
    assert.equal(writer.data.length, 60);
    assert.deepEqual(valuesOf(cut.updates, 'rc'), [1]);
    assert.match(textOf(cut.updates, 'stderr'), /^Maximum filesize reached, truncating file '.*big'$/);
    const exact = new RecordingWriter();
    const whole = await runCommand(
      'uploadFile',
      uploadArgs({ workersrc: 'big', maxsize: 100, blocksize: 25 }),
      {
        builderDir: b,
        remotes: remotesFor({ writer: exact }),
      },
    );
    assert.equal(exact.data.length, 100);
    assert.deepEqual(valuesOf(whole.updates, 'rc'), [0]);
  });

  it('completes with a failure when the master rejects a write, after closing', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build'));
    writeFileSync(join(b, 'build/f'), 'abc');
    const writer = new RecordingWriter();
    writer.failWrites = true;
    const { updates, failure } = await runCommand('uploadFile', uploadArgs({ workersrc: 'f' }), {
      builderDir: b,
      remotes: remotesFor({ writer }),
    });
    assert.ok(failure instanceof WorkerFailure);
    assert.match(failure.message, /disk full/);
    assert.deepEqual(
      writer.calls.map(([m]) => m),
      ['write', 'close'],
    );
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
  });

  it('stops at the next block when interrupted, still sending rc 1', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build'));
    writeFileSync(join(b, 'build/f'), 'x'.repeat(10000));
    let writes = 0;
    const writer = new RecordingWriter();
    const slow = Object.assign(Object.create(writer), {
      write: async (d: Uint8Array) => {
        writes++;
        await new Promise((r) => setTimeout(r, 20));
        return writer.write(d);
      },
    });
    const run = startCommand('uploadFile', uploadArgs({ workersrc: 'f', blocksize: 100 }), {
      builderDir: b,
      remotes: remotesFor({ writer: slow }),
    });
    await new Promise((r) => setTimeout(r, 70));
    run.interrupt();
    const { updates, failure } = await run.result;
    assert.equal(failure, null);
    assert.ok(writes < 100, `${writes} writes`);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
    assert.deepEqual(valuesOf(updates, 'elapsed'), [], 'no elapsed after an interrupt');
  });
});

describe('downloadFile', () => {
  const downloadArgs = (extra: Record<string, unknown>) => ({
    maxsize: null,
    reader: 'reader-ref',
    blocksize: 16384,
    workdir: 'build',
    mode: 420,
    workerdest: 'hello.txt',
    ...extra,
  });

  it('reads until empty, closes the reader, applies mode (bb-worker #0066-#0076)', async () => {
    const b = tempDir();
    const reader = new FixedReader(Buffer.from('hello from the master\nsecond line\n'));
    const { updates, failure } = await runCommand('downloadFile', downloadArgs({ mode: 0o640 }), {
      builderDir: b,
      remotes: remotesFor({ reader }),
    });
    assert.equal(failure, null);
    const path = join(b, 'build/hello.txt');
    assert.equal(readFileSync(path, 'utf8'), 'hello from the master\nsecond line\n');
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(reader.calls, [['read', 16384], ['read', 16384], ['close']]);
    assert.deepEqual(keysOf(updates), ['rc', 'elapsed']);
    assert.deepEqual(valuesOf(updates, 'rc'), [0]);
  });

  it('creates parent directories and accepts slavedest', async () => {
    const b = tempDir();
    const reader = new FixedReader(Buffer.from('x'));
    await runCommand(
      'downloadFile',
      downloadArgs({ workerdest: undefined, slavedest: 'a/b/c.txt', mode: null }),
      {
        builderDir: b,
        remotes: remotesFor({ reader }),
      },
    );
    assert.equal(readFileSync(join(b, 'build/a/b/c.txt'), 'utf8'), 'x');
  });

  it('truncates at maxsize with rc 1, but exactly maxsize is fine', async () => {
    const b = tempDir();
    const cut = await runCommand('downloadFile', downloadArgs({ maxsize: 10, blocksize: 4 }), {
      builderDir: b,
      remotes: remotesFor({ reader: new FixedReader(Buffer.alloc(25, 0x61)) }),
    });
    assert.equal(readFileSync(join(b, 'build/hello.txt')).length, 10);
    assert.deepEqual(valuesOf(cut.updates, 'rc'), [1]);
    assert.match(textOf(cut.updates, 'stderr'), /^Maximum filesize reached, truncating file /);
    const whole = await runCommand('downloadFile', downloadArgs({ maxsize: 25, blocksize: 4 }), {
      builderDir: b,
      remotes: remotesFor({ reader: new FixedReader(Buffer.alloc(25, 0x61)) }),
    });
    assert.deepEqual(valuesOf(whole.updates, 'rc'), [0]);
  });

  it('reports a destination that cannot be opened, closing the reader', async () => {
    const b = tempDir();
    mkdirSync(join(b, 'build/hello.txt'), { recursive: true });
    const reader = new FixedReader(Buffer.from('x'));
    const { updates, failure } = await runCommand('downloadFile', downloadArgs({}), {
      builderDir: b,
      remotes: remotesFor({ reader }),
    });
    assert.equal(failure, null);
    assert.deepEqual(reader.calls, [['close']]);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
    assert.equal(textOf(updates, 'stderr'), `Cannot open file '${join(b, 'build/hello.txt')}' for download`);
  });

  it('completes with a failure when a read fails', async () => {
    const b = tempDir();
    const reader = new FixedReader(Buffer.from('x'));
    reader.read = async () => {
      throw new Error('master went away');
    };
    const { updates, failure } = await runCommand('downloadFile', downloadArgs({}), {
      builderDir: b,
      remotes: remotesFor({ reader }),
    });
    assert.ok(failure instanceof WorkerFailure);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
  });
});

describe('uploadDirectory', () => {
  function makeTree(b: string): string {
    const dir = join(b, 'build/subdir');
    mkdirSync(join(dir, 'nested/deeper'), { recursive: true });
    writeFileSync(join(dir, 'inner.txt'), 'inner\n');
    writeFileSync(join(dir, 'nested/deeper/data.bin'), Buffer.alloc(3000, 7));
    writeFileSync(join(dir, `${'long-name-'.repeat(15)}.txt`), 'long\n');
    writeFileSync(join(dir, 'héllo.txt'), 'unicode\n');
    symlinkSync('inner.txt', join(dir, 'link'));
    linkSync(join(dir, 'inner.txt'), join(dir, 'hardlink'));
    mkdirSync(join(dir, 'empty'));
    return dir;
  }

  function extract(data: Buffer, flag: string): string {
    const out = tempDir();
    const r = spawnSync('tar', [`-x${flag}f`, '-', '-C', out], { input: data });
    assert.equal(r.status, 0, r.stderr.toString());
    return out;
  }

  for (const [compress, flag] of [
    [null, ''],
    ['gz', 'z'],
    ['bz2', 'j'],
  ] as const) {
    it(`sends a tar archive (compress ${compress}) and unpacks without close (bb-worker #0096-#0105)`, async () => {
      const b = tempDir();
      const dir = makeTree(b);
      const writer = new RecordingWriter();
      const { updates, failure } = await runCommand(
        'uploadDirectory',
        uploadArgs({ workersrc: 'subdir', blocksize: 1024, compress }),
        { builderDir: b, remotes: remotesFor({ writer }) },
      );
      assert.equal(failure, null);
      assert.equal(writer.calls.at(-1)![0], 'unpack');
      assert.ok(!writer.calls.some(([m]) => m === 'close'));
      assert.ok(writer.calls.slice(0, -1).every(([m, n]) => m === 'write' && (n as number) <= 1024));
      assert.deepEqual(keysOf(updates), ['header', 'rc', 'elapsed']);
      assert.equal(textOf(updates, 'header'), `sending ${dir}\n`);
      const out = extract(writer.data, flag);
      assert.equal(readFileSync(join(out, 'inner.txt'), 'utf8'), 'inner\n');
      assert.deepEqual(readFileSync(join(out, 'nested/deeper/data.bin')), Buffer.alloc(3000, 7));
      assert.equal(readFileSync(join(out, `${'long-name-'.repeat(15)}.txt`), 'utf8'), 'long\n');
      assert.equal(readFileSync(join(out, 'héllo.txt'), 'utf8'), 'unicode\n');
      assert.equal(readlinkSync(join(out, 'link')), 'inner.txt');
      assert.equal(statSync(join(out, 'hardlink')).ino, statSync(join(out, 'inner.txt')).ino);
      assert.ok(statSync(join(out, 'empty')).isDirectory());
      assert.equal(
        statSync(join(out, 'inner.txt')).mtimeMs - (statSync(join(out, 'inner.txt')).mtimeMs % 1000),
        Math.floor(statSync(join(dir, 'inner.txt')).mtimeMs / 1000) * 1000,
      );
    });
  }

  // Debian's Python, as a Buildbot master runs on; without it, CI is refused (scripts/test-deps.mjs).
  const PYTHON = '/usr/bin/python3';
  const python = spawnSync(PYTHON, ['-c', 'import tarfile'], { encoding: 'utf8' }).status === 0;
  it('is unpacked by Python tarfile as a Buildbot master does', {
    skip: !python && `no ${PYTHON}`,
  }, async () => {
    for (const compress of [null, 'gz', 'bz2']) {
      const b = tempDir();
      makeTree(b);
      const writer = new RecordingWriter();
      await runCommand('uploadDirectory', uploadArgs({ workersrc: 'subdir', blocksize: 16384, compress }), {
        builderDir: b,
        remotes: remotesFor({ writer }),
      });
      const out = tempDir();
      const archive = join(out, 'upload.tar');
      writeFileSync(archive, writer.data);
      const mode = compress === 'gz' ? 'r|gz' : compress === 'bz2' ? 'r|bz2' : 'r';
      // remote_unpack of buildbot/process/remotetransfer.py, as Buildbot 3.7 runs it
      const script = [
        'import sys, tarfile',
        `with tarfile.open(name=sys.argv[1], mode='${mode}') as archive:`,
        '    archive.extractall(path=sys.argv[2])',
      ].join('\n');
      const dest = join(out, 'dest');
      const r = spawnSync(PYTHON, ['-c', script, archive, dest], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(dest, 'inner.txt'), 'utf8'), 'inner\n');
      assert.equal(readFileSync(join(dest, `${'long-name-'.repeat(15)}.txt`), 'utf8'), 'long\n');
      assert.equal(readFileSync(join(dest, 'héllo.txt'), 'utf8'), 'unicode\n');
      assert.equal(readlinkSync(join(dest, 'link')), 'inner.txt');
      assert.ok(statSync(join(dest, 'empty')).isDirectory());
    }
  });

  it('fails for a missing directory', async () => {
    const writer = new RecordingWriter();
    const { updates, failure } = await runCommand(
      'uploadDirectory',
      uploadArgs({ workersrc: 'nope', compress: null }),
      {
        builderDir: tempDir(),
        remotes: remotesFor({ writer }),
      },
    );
    assert.ok(failure instanceof WorkerFailure);
    assert.equal(failure.pyType, 'builtins.FileNotFoundError');
    assert.deepEqual(writer.calls, []);
    assert.deepEqual(keysOf(updates), ['elapsed']);
  });

  it('truncates at maxsize with rc 1', async () => {
    const b = tempDir();
    makeTree(b);
    const writer = new RecordingWriter();
    const { updates } = await runCommand(
      'uploadDirectory',
      uploadArgs({ workersrc: 'subdir', blocksize: 512, compress: null, maxsize: 2048 }),
      { builderDir: b, remotes: remotesFor({ writer }) },
    );
    assert.equal(writer.data.length, 2048);
    assert.deepEqual(valuesOf(updates, 'rc'), [1]);
    assert.match(textOf(updates, 'stderr'), /^Maximum filesize reached/);
  });
});
