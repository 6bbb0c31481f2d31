/**
 * Objects by value: a Copyable arrives as a fresh copy; a Cacheable arrives as a copy
 * that the origin keeps up to date with `observe_*` messages.
 *
 *   ./dev node examples/pb/copy-and-cache.ts
 */
import {
  Cacheable,
  Copyable,
  connect,
  listen,
  Referenceable,
  RemoteCache,
  type RemoteCacheObserver,
  RemoteCopy,
  registerRemoteCopy,
} from '@lathe/pb';

// --- a Copyable: sent by value, rebuilt as whatever class the receiver registered
class BuildSummary extends Copyable {
  static override copyTag = 'example.BuildSummary';
  builder: string;
  number: number;
  result: string;
  constructor(builder = '', number = 0, result = '') {
    super();
    this.builder = builder;
    this.number = number;
    this.result = result;
  }
}
class ReceivedSummary extends RemoteCopy {
  builder?: string;
  number?: number;
  result?: string;
  describe() {
    return `${this.builder} #${this.number}: ${this.result}`;
  }
}
registerRemoteCopy('example.BuildSummary', ReceivedSummary);

// --- a Cacheable: the receiver's copy follows every change
class QueueLength extends Cacheable {
  static override copyTag = 'example.QueueLength';
  private observers = new Set<RemoteCacheObserver>();
  private length: number;
  constructor(length = 0) {
    super();
    this.length = length;
  }
  override getStateToCacheAndObserveFor(_perspective: unknown, observer: RemoteCacheObserver) {
    this.observers.add(observer);
    return { length: this.length };
  }
  override stoppedObserving(_perspective: unknown, observer: RemoteCacheObserver) {
    this.observers.delete(observer);
  }
  set(length: number) {
    this.length = length;
    for (const o of this.observers) o.callRemoteNoAnswer('length', length);
  }
}
class QueueLengthCopy extends RemoteCache {
  length = 0;
  observe_length(n: number) {
    this.length = n;
    console.log(`queue length is now ${n}`);
  }
}
registerRemoteCopy('example.QueueLength', QueueLengthCopy);

const queue = new QueueLength(3);
class Status extends Referenceable {
  remote_lastBuild() {
    return new BuildSummary('linux', 42, 'success');
  }
  remote_queue() {
    return queue;
  }
  remote_enqueue() {
    queue.set(4);
  }
}

const server = await listen({ port: 0, root: new Status() });
const conn = await connect({ host: '127.0.0.1', port: server.port });
const status = conn.root();
const summary = await status.callRemote<ReceivedSummary>('lastBuild');
console.log('last build:', summary.describe());
const copy = await status.callRemote<QueueLengthCopy>('queue');
console.log('queue length at first:', copy.length);
await status.callRemote('enqueue');
console.log('queue length seen by the client:', copy.length);
copy.release(); // stop observing
conn.close();
await server.close();
