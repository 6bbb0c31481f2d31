// Remembers how the latest reconfig went, so `lathe reconfig` — which triggers it with
// SIGHUP, a signal that carries no answer — can ask the master afterwards.
import { ConfigError, formatIssue } from '../config/errors.js';
import type { ReconfigResult } from '../master.js';
import type { ReconfigOutcome } from './protocol.js';

export function describeReconfig(result: ReconfigResult): {
  ok: boolean;
  problems: string[];
  summary: string;
} {
  if (!result.ok) {
    const problems =
      result.error instanceof ConfigError ? result.error.issues.map(formatIssue) : [result.error.message];
    return { ok: false, problems, summary: '' };
  }
  const count = (k: 'added' | 'changed' | 'removed') =>
    result.diff.workers[k].length + result.diff.builders[k].length;
  let summary = `${count('added')} added, ${count('changed')} changed, ${count('removed')} removed`;
  if (result.needsRestart.length > 0) summary += `; restart needed for: ${result.needsRestart.join(', ')}`;
  return { ok: true, problems: [], summary };
}

export class ReconfigTracker {
  #last: ReconfigOutcome = { generation: 0, ok: true, problems: [], summary: 'no reconfig yet' };
  #waiters = new Set<{ after: number; resolve: (o: ReconfigOutcome) => void }>();

  get last(): ReconfigOutcome {
    return this.#last;
  }

  record(result: ReconfigResult): ReconfigOutcome {
    this.#last = { generation: this.#last.generation + 1, ...describeReconfig(result) };
    for (const w of this.#waiters) {
      if (this.#last.generation > w.after) {
        this.#waiters.delete(w);
        w.resolve(this.#last);
      }
    }
    return this.#last;
  }

  /** The first outcome after generation `after`, or null after `timeoutMs`. */
  wait(after: number, timeoutMs: number): Promise<ReconfigOutcome | null> {
    if (this.#last.generation > after) return Promise.resolve(this.#last);
    return new Promise((resolve) => {
      const waiter = {
        after,
        resolve: (o: ReconfigOutcome | null) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(null);
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
