// Data hooks: a read that re-runs when its inputs change, and live topics that tell a view
// to update (or to read again after a resync).
import { useEffect, useRef, useState } from 'preact/hooks';
import { type LiveMessage, live } from './api';

export interface Async<T> {
  readonly value: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  reload(): void;
}

export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ value?: T; error?: Error; of?: Promise<T> }>({});
  const [tick, setTick] = useState(0);
  // The read whose answer the view shows next: an answer to any earlier one (inputs changed,
  // or the view is gone) is dropped.
  const latest = useRef<Promise<T> | null>(null);
  const settle = (read: Promise<T>) => {
    latest.current = read;
    read.then(
      (value) => latest.current === read && setState({ value, of: read }),
      (error: Error) => latest.current === read && setState({ error, of: read }),
    );
  };
  // A read starts as the view renders with new inputs (the first render included), and its
  // answer is drawn as soon as it arrives: not from an effect, which runs only after the
  // browser painted the view, a frame or more later. Until then the view keeps what it showed.
  const started = useRef<readonly unknown[] | null>(null);
  if (!started.current || !sameDeps(started.current, deps)) {
    started.current = deps;
    settle(load());
  }
  // Asked to read again (reload), and dropping the last answer once the view is gone.
  useEffect(() => {
    if (tick > 0) settle(load());
    return () => {
      latest.current = null;
    };
  }, [tick]);
  return {
    value: state.value,
    error: state.error,
    loading: state.of !== latest.current,
    reload: () => setTick((t) => t + 1),
  } as Async<T>;
}

function sameDeps(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** Calls `onMessage` for every event on `topics` while the view is shown. */
export function useLive(topics: readonly string[], onMessage: (m: LiveMessage) => void): void {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const key = topics.join('\n');
  useEffect(() => {
    const offs = topics.map((t) => live.subscribe(t, (m) => handler.current(m)));
    return () => {
      for (const off of offs) off();
    };
  }, [key]);
}

/**
 * A read kept current by live topics: it reads again (at most every `throttleMs`) when an
 * event arrives, so a burst of events costs one read, never one per event.
 */
export function useLiveRead<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  topics: readonly string[],
  throttleMs = 250,
): Async<T> {
  const result = useAsync(load, deps);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (pending.current) clearTimeout(pending.current);
    },
    [],
  );
  useLive(topics, () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      result.reload();
    }, throttleMs);
  });
  return result;
}

/** Re-renders every `ms` (durations and ETAs of running builds tick). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/**
 * How many of `total` rows to render: `first` at once, then `step` more each frame. A list of
 * a thousand rows shows its top at once and the rest as the browser keeps up, instead of
 * holding the whole page until every row is built.
 */
export function useProgressive(total: number, first = 100, step = 200): number {
  const [shown, setShown] = useState(first);
  useEffect(() => {
    if (shown >= total) return;
    const frame = requestAnimationFrame(() => setShown((n) => n + step));
    return () => cancelAnimationFrame(frame);
  }, [shown, total]);
  return Math.min(shown, total);
}

/**
 * Which items of a long list have come near the screen (within a screen's height of it), by
 * the number in their element's `data-near` attribute; once near, always counted. One
 * IntersectionObserver serves the whole list: an item's element is given to `observer`.
 */
export function useNearScreen(): {
  readonly near: ReadonlySet<number>;
  readonly observer: IntersectionObserver;
} {
  const [near, setNear] = useState<ReadonlySet<number>>(new Set());
  const [observer] = useState(
    () =>
      new IntersectionObserver(
        (entries, self) => {
          const added: number[] = [];
          for (const e of entries) {
            if (!e.isIntersecting) continue;
            added.push(Number((e.target as HTMLElement).dataset.near));
            self.unobserve(e.target);
          }
          if (added.length > 0) setNear((old) => new Set([...old, ...added]));
        },
        { rootMargin: '100% 0px' },
      ),
  );
  useEffect(() => () => observer.disconnect(), []);
  return { near, observer };
}
