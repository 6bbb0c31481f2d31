// The latest builds of many builders in one read (`/lastbuilds/:count`), kept current by
// live events: a finished or new build re-reads only its builder, batched and throttled, so
// a page of hundreds of sparklines or a waterfall costs a request or two, not one per builder.
import { useEffect, useRef, useState } from 'preact/hooks';
import { list, type Resource } from './api';
import { useLive } from './hooks';

/** Builders per request: keeps the URL short (every id is a `builderid__in` value). */
const CHUNK = 200;

/** The latest `count` builds of each builder, newest first (builders without builds absent). */
export async function latestBuilds(
  builderids: readonly number[],
  count: number,
  fields?: readonly string[],
): Promise<Map<number, Resource[]>> {
  const byBuilder = new Map<number, Resource[]>();
  const chunks: number[][] = [];
  for (let i = 0; i < builderids.length; i += CHUNK) chunks.push(builderids.slice(i, i + CHUNK));
  const pages = await Promise.all(
    chunks.map((ids) =>
      list(`/lastbuilds/${count}`, {
        builderid__in: ids.map(String),
        ...(fields ? { field: [...new Set([...fields, 'builderid', 'number'])] } : {}),
      }),
    ),
  );
  for (const b of pages.flatMap((p) => p.items)) {
    const id = b.builderid as number;
    const builds = byBuilder.get(id);
    if (builds) builds.push(b);
    else byBuilder.set(id, [b]);
  }
  for (const builds of byBuilder.values()) builds.sort((x, y) => (y.number as number) - (x.number as number));
  return byBuilder;
}

/**
 * The latest `count` builds of each of `builderids`, read again for a builder at most every
 * `throttleMs` after one of its builds starts or finishes (all of them after a resync).
 */
export function useLatestBuilds(
  builderids: readonly number[],
  count: number,
  fields?: readonly string[],
  throttleMs = 1000,
): ReadonlyMap<number, Resource[]> {
  // `count` and `fields` are fixed for a view's life.
  const [builds, setBuilds] = useState<ReadonlyMap<number, Resource[]>>(new Map());
  const dirty = useRef(new Set<number>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Builders read and shown since: a list that grows (a page rendering its rows in chunks, a
  // group unfolded) reads only the builders it adds.
  const read = useRef(new Set<number>());
  const readSome = (ids: readonly number[]) =>
    latestBuilds(ids, count, fields).then((fresh) =>
      setBuilds((old) => {
        const next = new Map(old);
        for (const id of ids) {
          const b = fresh.get(id);
          if (b) next.set(id, b);
          else next.delete(id);
        }
        return next;
      }),
    );
  const key = builderids.join(',');
  useEffect(() => {
    // One no longer shown hears no events: read it again if it comes back.
    const shown = new Set(builderids);
    for (const id of read.current) if (!shown.has(id)) read.current.delete(id);
    const added = builderids.filter((id) => !read.current.has(id));
    for (const id of added) read.current.add(id);
    if (added.length > 0) void readSome(added);
  }, [key]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );
  useLive(['builds.*.new', 'builds.*.finished'], (m) => {
    const shown = new Set(builderids);
    const ids = m.type === 'resync' ? builderids : [m.resource.builderid as number];
    for (const id of ids) if (shown.has(id)) dirty.current.add(id);
    if (timer.current || dirty.current.size === 0) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      const ids = [...dirty.current];
      dirty.current.clear();
      void readSome(ids);
    }, throttleMs);
  });
  return builds;
}
