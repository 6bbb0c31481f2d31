/**
 * Replays the commands of the golden capture bb-worker (a Buildbot 3.7 master
 * driving buildbot-worker 3.7) against this worker, minus the PB transport:
 * the same startCommand arguments go in, and the updates and completions that
 * come out must match what the Python worker sent, up to paths, timings and
 * the worker's environment.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RemoteReader, RemoteWriter } from '../src/commands/command.js';
import { WorkerFailure } from '../src/protocol/failure.js';
import { isTuple, PyFloat, tuple } from '../src/protocol/values.js';
import { Bot } from '../src/worker/bot.js';
import type { MasterCommandRef } from '../src/worker/running-command.js';
import { tempDir } from './helpers.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const TRACE_DIR = resolve(repoRoot, 'fixtures/pb-traces');
const CAPTURE_BASEDIR = '/tmp/pbspec/bb/worker';

type Node = unknown;

/** Decodes the typed JSON of an elements.json entry (Banana + Jelly) into worker values. */
function jelly(node: Node): unknown {
  if (Array.isArray(node)) {
    const head = token(node[0]);
    const rest = node.slice(1);
    switch (head) {
      case 'unicode':
        return (jelly(rest[0]) as Buffer).toString('utf8');
      case 'dictionary':
        return Object.fromEntries(
          rest.map((pair) => [String(keyOf(jelly((pair as Node[])[0]))), jelly((pair as Node[])[1])]),
        );
      case 'list':
        return rest.map(jelly);
      case 'tuple':
        return tuple(...rest.map(jelly));
      case 'boolean':
        return token(rest[0]) === 'true';
      case 'None':
        return null;
      case 'remote':
        return { remote: jelly(rest[0]) };
      default:
        return node.map(jelly);
    }
  }
  const leaf = node as Record<string, string>;
  if ('str' in leaf) return Buffer.from(leaf.str!, 'hex');
  if ('int' in leaf) return Number(leaf.int);
  if ('float' in leaf) return Buffer.from(leaf.float!, 'hex').readDoubleBE(0);
  if ('vocab' in leaf) return leaf.word;
  return node;
}

function token(node: Node): string | undefined {
  const leaf = node as Record<string, string>;
  if (leaf && typeof leaf === 'object' && 'vocab' in leaf) return leaf.word;
  if (leaf && typeof leaf === 'object' && 'str' in leaf)
    return Buffer.from(leaf.str!, 'hex').toString('latin1');
  return undefined;
}

function keyOf(v: unknown): string {
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

interface Message {
  dir: 'c2s' | 's2c';
  object: unknown;
  method: string;
  args: unknown[];
}

function messages(): Message[] {
  const elements = JSON.parse(readFileSync(join(TRACE_DIR, 'bb-worker.elements.json'), 'utf8')) as Array<{
    dir: 'c2s' | 's2c';
    value: Node[];
  }>;
  const out: Message[] = [];
  for (const e of elements) {
    if (!Array.isArray(e.value) || token(e.value[0]) !== 'message') continue;
    const decoded = e.value.map(jelly);
    out.push({
      dir: e.dir,
      object: decoded[2],
      method: keyOf(decoded[3]),
      args: [...(decoded[5] as unknown[])],
    });
  }
  return out;
}

type Step = [string, unknown];

/** Normalises a sequence of updates: joins adjacent text of one key, masks paths, timings and environment. */
function normalise(updates: Step[], basedir: string): Step[] {
  const out: Step[] = [];
  const text = (s: string) =>
    s
      .replaceAll(basedir, '<B>')
      .replaceAll(CAPTURE_BASEDIR, '<B>')
      .replace(/ environment:\n(?: {2}.*\n)*/g, ' environment: <…>\n')
      .replace(/elapsedTime=\d+\.\d+/g, 'elapsedTime=<t>');
  for (const [key, value] of updates) {
    const last = out.at(-1);
    if (typeof value === 'string' && last && last[0] === key && typeof last[1] === 'string') {
      last[1] = text(`${last[1]}${value}`);
      continue;
    }
    if (key === 'log' && isTuple(value)) {
      const [name, data] = value as unknown as [string, string];
      if (last && last[0] === 'log' && (last[1] as string[])[0] === name) {
        (last[1] as string[])[1] += data;
      } else out.push(['log', [name, data]]);
      continue;
    }
    if (key === 'elapsed')
      out.push([key, typeof value === 'number' || value instanceof PyFloat ? '<float>' : value]);
    else if (key === 'stat') out.push([key, isTuple(value) ? `tuple of ${value.length}` : value]);
    else if (key === 'files') out.push([key, (value as string[]).map(text).sort()]);
    else out.push([key, typeof value === 'string' ? text(value) : value]);
  }
  return out.map(([k, v]) => [k, typeof v === 'string' ? text(v) : v]);
}

class Recorder implements MasterCommandRef {
  readonly updates: Step[] = [];
  failure: WorkerFailure | null | undefined;
  private resolveDone!: () => void;
  readonly done = new Promise<void>((r) => {
    this.resolveDone = r;
  });
  async update(wire: unknown[]): Promise<unknown> {
    for (const [dict] of wire as Array<[Record<string, unknown>, number]>)
      this.updates.push(Object.entries(dict)[0]!);
    return 0;
  }
  async complete(failure: WorkerFailure | null): Promise<unknown> {
    this.failure = failure;
    this.resolveDone();
    return null;
  }
}

describe('replay of the bb-worker capture', () => {
  it('answers every command of the capture as buildbot-worker 3.7 did', async () => {
    const all = messages();
    const starts = all.filter((m) => m.dir === 's2c' && m.method === 'startCommand');
    assert.equal(starts.length, 16);
    const builderOfObject = new Map<number, string>([
      [2, 'trybuilder'],
      [3, 'demo'],
    ]);
    const masterFile = Buffer.from('hello from the master\nsecond line\n');
    const writes: Record<number, string[]> = {};
    const remotes = {
      writer(ref: unknown): RemoteWriter {
        const id = (ref as { remote: number }).remote;
        const log: string[] = [];
        writes[id] = log;
        return {
          write: async () => void log.push('write'),
          utime: async () => void log.push('utime'),
          close: async () => void log.push('close'),
          unpack: async () => void log.push('unpack'),
        };
      },
      reader(): RemoteReader {
        let sent = false;
        return {
          read: async () => {
            const data = sent ? Buffer.alloc(0) : masterFile;
            sent = true;
            return data;
          },
          close: async () => {},
        };
      },
    };
    const basedir = tempDir();
    const bot = new Bot({ basedir, remotes, batching: { maxDelayMs: 60_000 } });
    const builders = bot.setBuilderList([
      ['trybuilder', 'trybuilder'],
      ['demo', 'demo'],
    ]);

    for (const start of starts) {
      const [cmdRef, commandId, name, args] = start.args as [
        { remote: number },
        string,
        string,
        Record<string, unknown>,
      ];
      const builder = builders.get(builderOfObject.get(start.object as number)!)!;
      const expected = all.filter((m) => m.dir === 'c2s' && m.object === cmdRef.remote);
      const expectedUpdates: Step[] = expected
        .filter((m) => m.method === 'update')
        .flatMap((m) =>
          (m.args[0] as Array<[Record<string, unknown>, number]>).map(([d]) => Object.entries(d)[0]!),
        );
      const expectedComplete = expected.find((m) => m.method === 'complete');

      const recorder = new Recorder();
      if (name === 'noSuchCommand') {
        assert.throws(
          () => builder.startCommand(recorder, commandId, name, args),
          (err: unknown) =>
            err instanceof WorkerFailure &&
            err.pyType === 'buildbot_worker.base.UnknownCommand' &&
            err.message === "unrecognized WorkerCommand 'noSuchCommand'",
        );
        assert.equal(expectedComplete, undefined);
        continue;
      }
      builder.startCommand(recorder, commandId, name, args);
      const interrupt = all.find(
        (m) => m.dir === 's2c' && m.method === 'interruptCommand' && m.args[0] === commandId,
      );
      if (interrupt) {
        await new Promise((r) => setTimeout(r, 300));
        builder.interruptCommand(commandId, String(interrupt.args[1]));
      }
      await recorder.done;

      assert.deepEqual(
        normalise(recorder.updates, basedir),
        normalise(expectedUpdates, basedir),
        `updates of command ${commandId} (${name})`,
      );
      const expectedFailure = expectedComplete!.args[0];
      if (expectedFailure === null) {
        assert.equal(recorder.failure, null, `command ${commandId} completes without failure`);
      } else {
        const state = (expectedFailure as unknown[])[1] as Record<string, unknown>;
        assert.ok(recorder.failure instanceof WorkerFailure);
        assert.equal(recorder.failure.pyType, keyOf(state.type));
        assert.equal(recorder.failure.message, state.value);
      }
    }
    // transfer calls, in the capture's order
    assert.deepEqual(writes[9], ['write', 'close', 'utime']);
    assert.deepEqual(writes[11], ['write', 'unpack']);
  });
});
