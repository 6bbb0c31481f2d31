import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObservedStepLog, TapParser, WarningCounter } from '../src/logparsers/index.js';
import { RedactingStepLog, Redactor } from '../src/properties/index.js';
import type { StepLog } from '../src/steps/contract.js';

class MemoryLog implements StepLog {
  readonly written: [string, string][] = [];
  finished = false;
  async write(stream: 'o' | 'e' | 'h', text: string): Promise<void> {
    this.written.push([stream, text]);
  }
  async finish(): Promise<void> {
    this.finished = true;
  }
  text(stream: string): string {
    return this.written
      .filter(([s]) => s === stream)
      .map(([, t]) => t)
      .join('');
  }
}

describe('step log wrappers', () => {
  it('redacts per stream, parses the redacted lines and stores them, in chunks of any size', async () => {
    const redactor = new Redactor();
    redactor.add('tok-123456', 'token');
    const stored = new MemoryLog();
    const tap = new TapParser();
    const warnings = new WarningCounter();
    const observed = new ObservedStepLog(stored, [tap, warnings]);
    const log = new RedactingStepLog(observed, redactor);
    const out = 'ok 1 - login with tok-123456\nnot ok 2 - upload tok-123456\n1..2\n';
    const err = 'warning: token tok-123456 expires soon\n';
    // Interleave the streams, cutting through the secret in each.
    for (let i = 0; i < Math.max(out.length, err.length); i += 5) {
      if (i < out.length) await log.write('o', out.slice(i, i + 5));
      if (i < err.length) await log.write('e', err.slice(i, i + 5));
    }
    await log.write('h', 'header tok-123456 not parsed\n');
    await log.finish();
    assert.equal(stored.text('o'), out.replaceAll('tok-123456', '<secret>'));
    assert.equal(stored.text('e'), 'warning: token <secret> expires soon\n');
    assert.equal(stored.text('h'), 'header <secret> not parsed\n');
    assert.ok(stored.finished);
    const s = tap.summary();
    assert.deepEqual([s.passed, s.failed], [1, 1]);
    assert.deepEqual(s.failedNames, ['upload <secret>']);
    assert.equal(warnings.report().count, 1);
    assert.equal(observed.lines, 4, 'three stdout lines and one stderr line, headers excluded');
  });
});
