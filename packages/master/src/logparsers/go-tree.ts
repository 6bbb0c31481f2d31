// Go subtests are named `Parent/child`. Only leaves are counted, but `go test -v` prints a
// parent's result before its children's, so a test is settled only once its result is known
// and all its started subtests are settled. Only tests still open are remembered, so memory
// follows concurrency, not suite size.
import type { Outcome, TestTally } from './summary.js';

interface Node {
  result: Outcome | undefined;
  hasChildren: boolean;
  openChildren: number;
  childFailed: boolean;
}

export class GoTestTree {
  readonly #open = new Map<string, Node>();
  readonly #tally: TestTally;
  /** Failures settled since the last package result, to spot packages that failed without a failing test. */
  failuresInPackage = 0;

  constructor(tally: TestTally) {
    this.#tally = tally;
  }

  run(name: string): void {
    if (this.#open.has(name)) return;
    this.#open.set(name, { result: undefined, hasChildren: false, openChildren: 0, childFailed: false });
    const parent = this.#parentOf(name);
    if (parent) {
      parent.hasChildren = true;
      parent.openChildren++;
    }
  }

  result(name: string, outcome: Outcome): void {
    if (!this.#open.has(name)) this.run(name);
    this.#open.get(name)!.result = outcome;
    this.#trySettle(name);
  }

  /** A package finished: whatever is still open (a panic, a timeout) failed. */
  packageDone(pkg: string, failed: boolean): void {
    for (const name of [...this.#open.keys()]) {
      const n = this.#open.get(name);
      if (n && n.result === undefined) {
        n.result = 'fail';
        this.#trySettle(name);
      }
    }
    // Children settle their parents; anything left had unsettled relatives, settle it now.
    for (const name of [...this.#open.keys()]) this.#settle(name);
    if (failed && this.failuresInPackage === 0) this.#tally.add('fail', pkg);
    this.failuresInPackage = 0;
  }

  #parentOf(name: string): Node | undefined {
    for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
      const p = this.#open.get(name.slice(0, i));
      if (p) return p;
    }
    return undefined;
  }

  #trySettle(name: string): void {
    const n = this.#open.get(name);
    if (!n || n.result === undefined || n.openChildren > 0) return;
    this.#settle(name);
  }

  #settle(name: string): void {
    const n = this.#open.get(name);
    if (!n) return;
    this.#open.delete(name);
    const outcome = n.result ?? 'fail';
    if (!n.hasChildren || (outcome === 'fail' && !n.childFailed)) {
      this.#tally.add(outcome, name);
      if (outcome === 'fail') this.failuresInPackage++;
    }
    const parentName = this.#parentNameOf(name);
    if (parentName === undefined) return;
    const p = this.#open.get(parentName)!;
    p.openChildren--;
    if (outcome === 'fail') p.childFailed = true;
    this.#trySettle(parentName);
  }

  #parentNameOf(name: string): string | undefined {
    for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
      const candidate = name.slice(0, i);
      if (this.#open.has(candidate)) return candidate;
    }
    return undefined;
  }
}
