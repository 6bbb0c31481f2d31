// DirectoryUpload's extraction against hostile archives, made with Python's tarfile (what a
// stock worker uses) and driven through DirectoryWriter as a worker drives it: symlinks
// planted by one upload and used by the next, `..` members, links out, setuid bits, owners,
// device files, wide modes, and compression bombs; plus what an honest archive keeps.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DirectoryWriter,
  FileWriter,
  type TarCompression,
  TransferError,
} from '../src/steps/transfer/remote-files.js';
import { tempDir } from './helpers.js';

interface Member {
  readonly name: string;
  readonly type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev';
  readonly data?: string;
  /** Bytes of zeros instead of `data` (a bomb when compressed). */
  readonly zeros?: number;
  readonly mode?: number;
  readonly link?: string;
  readonly uid?: number;
}

// Builds the archive with Python's tarfile in PAX format, as buildbot-worker does.
const MAKE_TAR = `
import io, json, sys, tarfile
members, mode = json.loads(sys.argv[1]), sys.argv[2]
out = io.BytesIO()
with tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT) as tar:
    for m in members:
        info = tarfile.TarInfo(m['name'])
        info.mode = m.get('mode', 0o644)
        info.uid = m.get('uid', 0)
        info.mtime = 1_000_000
        kind = m.get('type', 'file')
        data = None
        if kind == 'file':
            data = b'\\0' * m['zeros'] if 'zeros' in m else m.get('data', '').encode()
            info.size = len(data)
        elif kind == 'dir':
            info.type = tarfile.DIRTYPE
        elif kind == 'symlink':
            info.type, info.linkname = tarfile.SYMTYPE, m['link']
        elif kind == 'hardlink':
            info.type, info.linkname = tarfile.LNKTYPE, m['link']
        elif kind == 'fifo':
            info.type = tarfile.FIFOTYPE
        elif kind == 'chardev':
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
sys.stdout.buffer.write(out.getvalue())
`;

function makeTar(members: readonly Member[], compress: TarCompression | 'xz' = null): Buffer {
  const mode = `w:${compress ?? ''}`;
  return execFileSync('/usr/bin/python3', ['-c', MAKE_TAR, JSON.stringify(members), mode], {
    maxBuffer: 1 << 28,
  });
}

/** Sends an archive the way a worker does (blocks of 16 KiB), then unpacks it. */
async function upload(
  dest: string,
  tar: Buffer,
  compress: TarCompression = null,
  maxsize = 1 << 30,
): Promise<DirectoryWriter> {
  const w = new DirectoryWriter(dest, maxsize, compress);
  for (let i = 0; i < tar.length; i += 16 * 1024) await w.remote_write(tar.subarray(i, i + 16 * 1024));
  await w.remote_unpack();
  return w;
}

// Reading the umask without changing it: set and restore at once.
const umask = process.umask(0o022);
process.umask(umask);

describe('DirectoryUpload extraction of untrusted archives', () => {
  const dir = tempDir('lathe-extract-');
  after(() => dir.cleanup());

  it('a symlink planted by an earlier upload is never followed by the next one', async () => {
    const outside = join(dir.path, 'outside');
    mkdirSync(outside);
    const dest = join(dir.path, 'uploads');
    const first = await upload(
      dest,
      makeTar([
        { name: 'esc', type: 'symlink', link: outside },
        { name: 'up', type: 'symlink', link: '../outside' },
        { name: 'ok', type: 'symlink', link: 'sub/../a.txt' },
        { name: 'a.txt', data: 'a\n' },
      ]),
    );
    assert.ok(!existsSync(join(dest, 'esc')), 'absolute link not created');
    assert.ok(!existsSync(join(dest, 'up')), 'link climbing out not created');
    assert.deepEqual(
      first.skipped.map((s) => s.split(':')[0]),
      [`esc -> ${outside}`, 'up -> ../outside', 'ok -> sub/../a.txt'],
      "'..' after a path that is not a real directory is not trusted either",
    );

    // As if an older master (or anything else) had left the link there.
    symlinkSync(outside, join(dest, 'esc'));
    await assert.rejects(upload(dest, makeTar([{ name: 'esc/x.txt', data: 'pwned\n' }])), TransferError);
    assert.ok(!existsSync(join(outside, 'x.txt')), 'nothing written through the link');

    // Nor is a new link made that leads out through it.
    const via = await upload(dest, makeTar([{ name: 'via', type: 'symlink', link: 'esc/x.txt' }]));
    assert.ok(!existsSync(join(dest, 'via')));
    assert.match(via.skipped.join('\n'), /via -> esc\/x\.txt: goes through esc, a symlink leading outside/);

    // A link at a member's own path is replaced, not written through.
    symlinkSync(join(outside, 'target.txt'), join(dest, 'file.txt'));
    await upload(dest, makeTar([{ name: 'file.txt', data: 'mine\n' }]));
    assert.ok(!existsSync(join(outside, 'target.txt')));
    assert.ok(lstatSync(join(dest, 'file.txt')).isFile());
    assert.equal(readFileSync(join(dest, 'file.txt'), 'utf8'), 'mine\n');
  });

  it("refuses members with '..' and keeps hard links and symlinks inside", async () => {
    const dest = join(dir.path, 'dots');
    await assert.rejects(
      upload(dest, makeTar([{ name: '../escaped.txt', data: 'x' }])),
      /escaped\.txt: leaves the destination/,
    );
    assert.ok(!existsSync(join(dir.path, 'escaped.txt')));
    await assert.rejects(
      upload(dest, makeTar([{ name: 'sub/../../escaped2.txt', data: 'x' }])),
      TransferError,
    );
    assert.ok(!existsSync(join(dir.path, 'escaped2.txt')));

    const links = join(dir.path, 'links');
    const w = await upload(
      links,
      makeTar([
        { name: 'lib', type: 'dir', mode: 0o755 },
        { name: 'lib/libx.so.1', data: 'elf' },
        { name: 'lib/libx.so', type: 'symlink', link: 'libx.so.1' },
        { name: 'bin', type: 'dir', mode: 0o755 },
        { name: 'bin/lib', type: 'symlink', link: '../lib' },
        { name: 'copy', type: 'hardlink', link: 'lib/libx.so.1' },
        { name: 'passwd', type: 'hardlink', link: '/etc/passwd' },
      ]),
    );
    assert.equal(readlinkSync(join(links, 'lib', 'libx.so')), 'libx.so.1');
    assert.equal(readlinkSync(join(links, 'bin', 'lib')), '../lib');
    assert.equal(statSync(join(links, 'copy')).ino, statSync(join(links, 'lib', 'libx.so.1')).ino);
    assert.ok(!existsSync(join(links, 'passwd')));
    assert.equal(w.skipped.length, 1, w.skipped.join('\n'));
  });

  it('restores no owners, devices, FIFOs or setuid bits, and keeps modes within the umask', async () => {
    const dest = join(dir.path, 'modes');
    const w = await upload(
      dest,
      makeTar([
        { name: 'suid', data: '#!/bin/sh\n', mode: 0o4755, uid: 4242 },
        { name: 'sgid-dir', type: 'dir', mode: 0o2777 },
        { name: 'open', data: 'x', mode: 0o777 },
        { name: 'private', data: 'x', mode: 0o600 },
        { name: 'null', type: 'chardev' },
        { name: 'pipe', type: 'fifo' },
      ]),
    );
    const mode = (name: string) => statSync(join(dest, name)).mode & 0o7777;
    assert.equal(mode('suid'), 0o755 & ~umask);
    assert.equal(statSync(join(dest, 'suid')).uid, process.getuid?.());
    assert.equal(mode('sgid-dir'), 0o777 & ~umask);
    assert.equal(mode('open'), 0o777 & ~umask);
    assert.equal(mode('private'), 0o600);
    assert.ok(!existsSync(join(dest, 'null')) && !existsSync(join(dest, 'pipe')));
    assert.equal(w.skipped.length, 2);
    assert.equal(statSync(join(dest, 'private')).mtimeMs, 1_000_000_000, 'mtime restored');
  });

  for (const compress of ['gz', 'bz2', 'xz'] as const) {
    // xz is never asked for: it arrives unannounced, recognised by its first bytes.
    const declared = compress === 'xz' ? null : compress;
    it(`stops a ${compress} bomb at maxsize after decompression`, async () => {
      const bomb = makeTar([{ name: 'zeros', zeros: 64 << 20 }], compress);
      assert.ok(bomb.length < 1 << 20, `${bomb.length} bytes compressed`);
      const dest = join(dir.path, `bomb-${compress}`);
      await assert.rejects(
        upload(dest, bomb, declared, 4 << 20),
        /larger than 4194304 bytes after decompression/,
      );
      assert.ok(statSync(join(dest, 'zeros')).size <= 4 << 20, 'written bytes stay under maxsize');
      assert.ok(!existsSync(`${dest}.lathe-tar`), 'archive removed');
    });

    it(`extracts an honest ${compress} archive with long and non-ASCII names`, async () => {
      const long = `${'d'.repeat(120)}/${'f'.repeat(150)}.txt`;
      const dest = join(dir.path, `honest-${compress}`);
      await upload(
        dest,
        makeTar(
          [
            { name: 'tree', type: 'dir', mode: 0o755 },
            { name: 'tree/ünïcødé.txt', data: 'unicode\n' },
            { name: long, data: 'long\n' },
          ],
          compress,
        ),
        declared,
      );
      assert.equal(readFileSync(join(dest, 'tree', 'ünïcødé.txt'), 'utf8'), 'unicode\n');
      assert.equal(readFileSync(join(dest, long), 'utf8'), 'long\n');
    });
  }

  it('reads GNU tar archives too (long names in GNU records, ustar prefixes)', async () => {
    const src = join(dir.path, 'gnu-src');
    const deep = join('a'.repeat(70), 'b'.repeat(70));
    mkdirSync(join(src, deep), { recursive: true });
    writeFileSync(join(src, deep, `${'c'.repeat(60)}.txt`), 'gnu\n');
    for (const format of ['gnu', 'ustar']) {
      const tar = execFileSync('tar', ['-c', `--format=${format}`, '-f', '-', '-C', src, '.']);
      const dest = join(dir.path, `from-${format}`);
      await upload(dest, tar);
      assert.equal(readFileSync(join(dest, deep, `${'c'.repeat(60)}.txt`), 'utf8'), 'gnu\n', format);
    }
  });

  it('FileWriter says when it cut an upload at maxsize', async () => {
    const w = new FileWriter(join(dir.path, 'cut.bin'), 4, null);
    await w.remote_write('abcd');
    assert.equal(w.truncated, false);
    await w.remote_write('e');
    assert.equal(w.truncated, true);
    const dest = join(dir.path, 'cut-tree');
    const cut = makeTar([{ name: 'big', zeros: 100_000 }]);
    await assert.rejects(upload(dest, cut, null, 50_000), /larger than maxsize 50000/);
  });
});
