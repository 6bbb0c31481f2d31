import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffEntries } from '../src/config/diff.js';
import { MultiService, type Service, ServiceErrors, ServiceSet } from '../src/service.js';
import { NO_MASTER } from './helpers.js';

interface Cfg {
  readonly name: string;
  readonly value: number;
}

describe('services', () => {
  it('starts children in order, stops them in reverse, and undoes a failed start', async () => {
    const log: string[] = [];
    const svc = (name: string, failStart = false): Service => ({
      name,
      start: async () => {
        if (failStart) throw new Error(`${name} broke`);
        log.push(`start ${name}`);
      },
      stop: async () => void log.push(`stop ${name}`),
    });
    const m = new MultiService('m');
    await m.add(svc('a'));
    await m.add(svc('b'));
    await m.start(NO_MASTER);
    await m.stop();
    assert.deepEqual(log, ['start a', 'start b', 'stop b', 'stop a']);

    log.length = 0;
    const broken = new MultiService('broken');
    await broken.add(svc('a'));
    await broken.add(svc('b', true));
    await assert.rejects(broken.start(NO_MASTER), /b broke/);
    assert.deepEqual(log, ['start a', 'stop a']);
  });

  it('reconfigures services that can, replaces those that cannot, and reports failures together', async () => {
    const log: string[] = [];
    const set = new ServiceSet<Cfg>('things', (c) =>
      c.name.startsWith('plain')
        ? {
            name: c.name,
            start: async () => void log.push(`start ${c.name}=${c.value}`),
            stop: async () => void log.push(`stop ${c.name}`),
          }
        : {
            name: c.name,
            start: async () => {
              if (c.value < 0) throw new Error('negative');
              log.push(`start ${c.name}=${c.value}`);
            },
            stop: async () => void log.push(`stop ${c.name}`),
            reconfigure: async (n: Cfg) => void log.push(`reconfigure ${c.name}=${n.value}`),
          },
    );
    await set.start(NO_MASTER);
    const v1: Cfg[] = [
      { name: 'r', value: 1 },
      { name: 'plain', value: 1 },
      { name: 'gone', value: 1 },
    ];
    await set.apply(diffEntries([], v1));
    log.length = 0;
    const v2: Cfg[] = [
      { name: 'r', value: 2 },
      { name: 'plain', value: 2 },
      { name: 'bad', value: -1 },
      { name: 'ok', value: 1 },
    ];
    await assert.rejects(set.apply(diffEntries(v1, v2)), (err: unknown) => {
      assert.ok(err instanceof ServiceErrors);
      assert.deepEqual(
        err.errors.map((e) => [e.service, e.action]),
        [['bad', 'start']],
      );
      return true;
    });
    assert.deepEqual(log, ['stop gone', 'reconfigure r=2', 'stop plain', 'start plain=2', 'start ok=1']);
    assert.deepEqual([...set.values()].map((s) => s.name).sort(), ['ok', 'plain', 'r']);
  });
});
