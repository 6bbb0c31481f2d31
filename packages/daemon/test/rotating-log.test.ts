import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RotatingLog } from '../src/rotating-log.js';

describe('RotatingLog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lathe-daemon-log-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates by size like twistd, keeping a bounded number of old files', () => {
    const path = join(dir, 'rotated.log');
    const log = new RotatingLog(path, 100, 2);
    for (let i = 0; i < 10; i++) log.write(`line ${i} ${'x'.repeat(40)}`);
    log.close();
    assert.deepEqual(
      readdirSync(dir)
        .filter((f) => f.startsWith('rotated.log'))
        .sort(),
      ['rotated.log', 'rotated.log.1', 'rotated.log.2'],
    );
    // Two 48-byte lines fit in 100 bytes: the newest two are current, older ones rotated out.
    assert.match(readFileSync(path, 'utf8'), /^line 8 x+\nline 9 x+\n$/);
    assert.match(readFileSync(`${path}.1`, 'utf8'), /^line 6 x+\nline 7 x+\n$/);
    assert.match(readFileSync(`${path}.2`, 'utf8'), /^line 4 x+\nline 5 x+\n$/);

    // Reopening appends to the existing file and counts its size.
    const again = new RotatingLog(path, 100, 2);
    again.write('line 10');
    again.close();
    assert.match(readFileSync(`${path}.1`, 'utf8'), /^line 8 x+\nline 9 x+\n$/);
    assert.equal(readFileSync(path, 'utf8'), 'line 10\n');
  });

  it('keeps the log and its rotated files private (0600), also one that was not', () => {
    const path = join(dir, 'private.log');
    writeFileSync(path, 'old\n');
    chmodSync(path, 0o644);
    const log = new RotatingLog(path, 20, 2);
    assert.equal(statSync(path).mode & 0o777, 0o600, 'an existing log is narrowed');
    for (let i = 0; i < 5; i++) log.write('z'.repeat(15));
    log.close();
    for (const f of [path, `${path}.1`, `${path}.2`]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  });

  it('appends to an existing log and can be told never to rotate', () => {
    const path = join(dir, 'kept.log');
    writeFileSync(path, 'old\n');
    const log = new RotatingLog(path, 0, 10);
    for (let i = 0; i < 100; i++) log.write('y'.repeat(50));
    log.close();
    assert.ok(readFileSync(path, 'utf8').startsWith('old\n'));
    assert.ok(!existsSync(`${path}.1`));
  });

  it('keeping no rotated files truncates the log instead', () => {
    const path = join(dir, 'truncated.log');
    const log = new RotatingLog(path, 20, 0);
    log.write('first line here');
    log.write('second line');
    log.close();
    assert.equal(readFileSync(path, 'utf8'), 'second line\n');
    assert.ok(!existsSync(`${path}.1`));
  });
});
