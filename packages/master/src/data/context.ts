import type { Kysely } from 'kysely';
import type { EventBus } from '../bus/bus.js';
import type { Database } from '../db/schema.js';

/** What every part of the data layer shares. */
export interface DataContext {
  readonly db: Kysely<Database>;
  readonly bus: EventBus;
  /** Epoch seconds; injectable so tests can control time. */
  readonly now: () => number;
}

export function epochSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

// SQLite limits bound parameters per statement; keep IN lists well below it.
export const IN_LIST_MAX = 500;

export function* batches<T>(items: readonly T[], size = IN_LIST_MAX): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
