// The copyable and cacheable types the tests exchange, with the tags the Twisted
// peer (twisted/pbpeer.py) uses: pbtypes.Thing and pbtypes.Counter.
import {
  Cacheable,
  Copyable,
  RemoteCache,
  type RemoteCacheObserver,
  RemoteCopy,
  registerRemoteCopy,
} from '../src/index.js';

export class Thing extends Copyable {
  static override copyTag = 'pbtypes.Thing';
  constructor(
    public name = '',
    public values: unknown[] = [],
  ) {
    super();
  }
}

export class RemoteThing extends RemoteCopy {
  name?: string;
  values?: unknown[];
}
registerRemoteCopy('pbtypes.Thing', RemoteThing);

export class Counter extends Cacheable {
  static override copyTag = 'pbtypes.Counter';
  value = 0;
  readonly observers = new Set<RemoteCacheObserver>();
  override getStateToCacheAndObserveFor(_p: unknown, observer: RemoteCacheObserver) {
    this.observers.add(observer);
    return { value: this.value };
  }
  override stoppedObserving(_p: unknown, observer: RemoteCacheObserver) {
    this.observers.delete(observer);
  }
  /** Increments the value and pushes it to every copy. */
  bump(): number {
    this.value++;
    for (const o of this.observers) o.callRemoteNoAnswer('setValue', this.value);
    return this.value;
  }
}

export class RemoteCounter extends RemoteCache {
  value = -1;
  updates: number[] = [];
  observe_setValue(v: number) {
    this.value = v;
    this.updates.push(v);
  }
}
registerRemoteCopy('pbtypes.Counter', RemoteCounter);
