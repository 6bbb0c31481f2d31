// The master-side transfer objects on their own, driven the way a worker drives them:
// truncation at maxsize, atomic placement, cleanup after a failure, tar extraction and
// readers' end-of-file answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DirectoryWriter,
  FileReader,
  FileWriter,
  StringFileReader,
  TransferError,
} from '../src/steps/transfer/remote-files.js';
import { tempDir } from './helpers.js';

describe('transfer objects', () => {
  const dir = tempDir('lathe-transfer-');
  after(() => dir.cleanup());

  it('FileWriter truncates at maxsize, places the file only on close, and applies mode and times', async () => {
    const dest = join(dir.path, 'out', 'file.bin');
    const w = new FileWriter(dest, 5, 0o640);
    await w.remote_write(Buffer.from('abc'));
    await w.remote_write('defgh');
    assert.ok(!existsSync(dest), 'nothing at the destination before close');
    await w.remote_close();
    assert.equal(readFileSync(dest, 'utf8'), 'abcde');
    assert.equal(statSync(dest).mode & 0o777, 0o640);
    await w.remote_utime([1_000_000, 1_000_000.5]);
    assert.equal(Math.floor(statSync(dest).mtimeMs / 1000), 1_000_000);
    await assert.rejects(w.remote_write('x'), TransferError);
    assert.deepEqual(readdirSync(join(dir.path, 'out')), ['file.bin'], 'no temporary file left');
  });

  it('FileWriter.cancel removes a partial file and one it already placed', async () => {
    const partial = new FileWriter(join(dir.path, 'partial', 'f'), 1 << 20, null);
    await partial.remote_write('half');
    await partial.cancel();
    assert.deepEqual(readdirSync(join(dir.path, 'partial')), []);
    const placed = new FileWriter(join(dir.path, 'placed', 'f'), 1 << 20, null);
    await placed.remote_close();
    assert.ok(existsSync(join(dir.path, 'placed', 'f')), 'an empty file arrives as one');
    await placed.cancel();
    assert.deepEqual(readdirSync(join(dir.path, 'placed')), []);
  });

  it('DirectoryWriter extracts the tar stream on unpack and refuses garbage without leftovers', async () => {
    const src = join(dir.path, 'tree');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'one\n');
    writeFileSync(join(src, 'sub', 'b.txt'), 'two\n');
    const tgz = execFileSync('tar', ['-c', '-z', '-f', '-', '-C', src, '.']);
    const dest = join(dir.path, 'unpacked');
    const w = new DirectoryWriter(dest, 1 << 20, 'gz');
    // The worker sends blocks of its blocksize.
    for (let i = 0; i < tgz.length; i += 100) await w.remote_write(tgz.subarray(i, i + 100));
    await w.remote_unpack();
    assert.equal(readFileSync(join(dest, 'sub', 'b.txt'), 'utf8'), 'two\n');
    assert.deepEqual(
      readdirSync(dir.path).filter((f) => f.includes('lathe')),
      [],
      'archive removed',
    );

    const bad = new DirectoryWriter(join(dir.path, 'bad'), 1 << 20, 'gz');
    await bad.remote_write('not a tar');
    await assert.rejects(bad.remote_unpack(), TransferError);
    assert.deepEqual(
      readdirSync(dir.path).filter((f) => f.includes('lathe')),
      [],
      'archive removed',
    );
  });

  it('readers serve bytes in chunks, then b"" at the end and "" once closed', async () => {
    const s = new StringFileReader('hello world');
    assert.equal(Buffer.from(s.remote_read(5) as Uint8Array).toString(), 'hello');
    assert.equal(Buffer.from(s.remote_read(100) as Uint8Array).toString(), ' world');
    assert.equal((s.remote_read(100) as Uint8Array).length, 0);
    s.remote_close();
    assert.equal(s.remote_read(100), '');

    const file = join(dir.path, 'source.txt');
    writeFileSync(file, 'abcdef');
    const r = new FileReader(await open(file, 'r'));
    assert.equal(Buffer.from((await r.remote_read(4)) as Uint8Array).toString(), 'abcd');
    assert.equal(Buffer.from((await r.remote_read(4)) as Uint8Array).toString(), 'ef');
    assert.equal(((await r.remote_read(4)) as Uint8Array).length, 0);
    await r.remote_close();
    assert.equal(await r.remote_read(4), '');
  });
});
