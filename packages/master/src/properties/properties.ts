// A build's properties: named values, each remembering where it came from. Sources are
// free-form strings in Buildbot (a step sets `got_revision` with its own name as source);
// the constants below name the standard layers.

export const PropertySources = {
  config: 'Global',
  change: 'Change',
  scheduler: 'Scheduler',
  builder: 'Builder',
  build: 'Build',
  worker: 'Worker',
  /** Steps set properties with their own name as source (`got_revision` from "git"); this is the fallback. */
  step: 'Step',
} as const;

export type PropertySource = string;

export interface PropertyEntry {
  readonly value: unknown;
  readonly source: PropertySource;
}

/** Read access is all rendering needs; the build runner holds the full Properties. */
export interface PropertyLookup {
  hasProperty(name: string): boolean;
  getProperty(name: string, fallback?: unknown): unknown;
}

export class Properties implements PropertyLookup {
  readonly #entries = new Map<string, PropertyEntry>();

  constructor(
    initial: Readonly<Record<string, unknown>> = {},
    source: PropertySource = PropertySources.config,
  ) {
    this.update(initial, source);
  }

  hasProperty(name: string): boolean {
    return this.#entries.has(name);
  }

  getProperty(name: string, fallback?: unknown): unknown {
    const e = this.#entries.get(name);
    return e === undefined ? fallback : e.value;
  }

  getSource(name: string): PropertySource | undefined {
    return this.#entries.get(name)?.source;
  }

  /** Values must be JSON-serialisable: they are stored in the database and sent to workers. */
  setProperty(name: string, value: unknown, source: PropertySource): void {
    if (!name) throw new RangeError('a property needs a name');
    if (value === undefined) throw new TypeError(`property ${name}: undefined is not a property value`);
    this.#entries.set(name, { value, source });
  }

  update(values: Readonly<Record<string, unknown>>, source: PropertySource): void {
    for (const [name, value] of Object.entries(values)) this.setProperty(name, value, source);
  }

  /** Copies another set's entries over these, keeping their sources. */
  updateFrom(other: Properties): void {
    for (const [name, e] of other.entries()) this.#entries.set(name, e);
  }

  entries(): IterableIterator<[string, PropertyEntry]> {
    return this.#entries.entries();
  }

  /** `{ name: [value, source] }`, the shape Buildbot's REST API and the database use. */
  asRecord(): Record<string, [unknown, PropertySource]> {
    const out: Record<string, [unknown, PropertySource]> = {};
    for (const [name, e] of this.#entries) out[name] = [e.value, e.source];
    return out;
  }
}

export interface PropertyLayers {
  readonly config?: Readonly<Record<string, unknown>>;
  readonly changes?: readonly Readonly<Record<string, unknown>>[];
  readonly scheduler?: Readonly<Record<string, unknown>>;
  readonly builder?: Readonly<Record<string, unknown>>;
  readonly build?: Readonly<Record<string, unknown>>;
  readonly worker?: Readonly<Record<string, unknown>>;
}

/**
 * A build's initial properties, layered in Buildbot's order so that the more specific
 * source wins: global config, changes, the scheduler's (build request's) properties,
 * builder, build (buildnumber, branch, revision…), worker.
 */
export function layerBuildProperties(layers: PropertyLayers): Properties {
  const p = new Properties();
  if (layers.config) p.update(layers.config, PropertySources.config);
  for (const c of layers.changes ?? []) p.update(c, PropertySources.change);
  if (layers.scheduler) p.update(layers.scheduler, PropertySources.scheduler);
  if (layers.builder) p.update(layers.builder, PropertySources.builder);
  if (layers.build) p.update(layers.build, PropertySources.build);
  if (layers.worker) p.update(layers.worker, PropertySources.worker);
  return p;
}
