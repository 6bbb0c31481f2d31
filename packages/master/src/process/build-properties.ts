// A build's properties and their boundary: steps read and set the real values, while what
// leaves the build (the database, and through it the UI, the bus and the `lathe` commands)
// gets the secrets the build used masked as `<secret>`, the same as its logs.
import type { DataLayer } from '../data/index.js';
import type { Assignment } from '../distributor/slots.js';
import { layerBuildProperties, Properties, PropertySources } from '../properties/properties.js';
import type { Redactor } from '../properties/redactor.js';

export class BuildProperties {
  readonly #props = new Properties();
  #writes: Promise<unknown>[] = [];
  /** Each property as last handed to the database: `[value, source]` as JSON, secrets masked. */
  readonly #shown = new Map<string, string>();
  /** The redactor's version when every shown property was last checked for secrets. */
  #maskedWith = 0;

  constructor(
    private readonly data: DataLayer,
    private readonly buildid: number,
    private readonly redactor: Redactor,
  ) {}

  /** The live set, for rendering (steps see the real values). */
  get properties(): Properties {
    return this.#props;
  }

  get(name: string): unknown {
    return this.#props.getProperty(name);
  }

  set(name: string, value: unknown, source: string): void {
    this.#props.setProperty(name, value, source);
    this.#store([name]);
  }

  /** `value` with every secret this build used so far masked. */
  masked<T>(value: T): T {
    return this.redactor.redactValue(value);
  }

  /** Sets the build's initial properties (see initialBuildProperties) and stores them. */
  async setUp(initial: InitialProperties): Promise<void> {
    const props = await initialBuildProperties(this.data, initial);
    this.#props.updateFrom(props);
    this.#store([...props.entries()].map(([name]) => name));
  }

  /**
   * A secret the build used only after a property already held its value (a command printed
   * it before a step rendered it): mask it in the stored properties too. Settles once every
   * write handed to the database so far has.
   */
  async settle(): Promise<void> {
    if (this.redactor.version !== this.#maskedWith) {
      this.#maskedWith = this.redactor.version;
      this.#store([...this.#props.entries()].map(([name]) => name));
    }
    const writes = this.#writes;
    this.#writes = [];
    await Promise.allSettled(writes);
  }

  /** Hands the named properties, masked, to the database; unchanged ones are not written again. */
  #store(names: Iterable<string>): void {
    const changed: Record<string, [unknown, string]> = {};
    for (const name of names) {
      const source = this.#props.getSource(name);
      if (source === undefined) continue;
      const shown: [unknown, string] = [this.masked(this.#props.getProperty(name)), source];
      const json = JSON.stringify(shown);
      if (this.#shown.get(name) === json) continue;
      this.#shown.set(name, json);
      changed[name] = shown;
    }
    if (Object.keys(changed).length > 0)
      this.#writes.push(this.data.builds.setProperties(this.buildid, changed));
  }
}

export interface InitialProperties {
  /** The config's global properties (lowest precedence). */
  readonly globals: Readonly<Record<string, unknown>>;
  readonly assignment: Assignment;
  readonly buildNumber: number;
  /** What `readRequestedProperties` gave, if it was started earlier (while the build was numbered). */
  readonly requested?: Promise<RequestedProperties>;
}

/** The properties of a request's changes and those the request carried, as stored. */
export interface RequestedProperties {
  readonly ofChanges: readonly Readonly<Record<string, unknown>>[];
  readonly requested: Readonly<Record<string, readonly [unknown, string]>>;
}

/** Reads what `initialBuildProperties` needs of the database, both reads at once. */
export async function readRequestedProperties(
  data: DataLayer,
  request: Assignment['request'],
): Promise<RequestedProperties> {
  const withChanges = request.sources.filter((s) => s.hasChanges).map((s) => s.sourcestampid);
  const [ofChanges, requested] = await Promise.all([
    data.changes.propertiesOf(withChanges),
    data.buildsets.properties(request.buildsetid),
  ]);
  return { ofChanges, requested };
}

/**
 * A build's initial properties in Buildbot's order, more specific sources winning: global
 * config, the properties of the changes being built, what the request carried (a
 * scheduler's or forced build's properties, with their own sources), builder, build
 * (identity and source stamp), worker (its config properties and `workername`; what the
 * worker says about itself is not trusted with a say in the build's properties).
 */
export async function initialBuildProperties(
  data: DataLayer,
  initial: InitialProperties,
): Promise<Properties> {
  const { builder, worker, request } = initial.assignment;
  const props = new Properties(initial.globals, PropertySources.config);
  const { ofChanges, requested } = await (initial.requested ?? readRequestedProperties(data, request));
  for (const changeProps of ofChanges) props.update(changeProps, PropertySources.change);
  for (const [k, [v, source]] of Object.entries(requested)) {
    if (v !== undefined) props.setProperty(k, v, source);
  }
  const ss = request.sources[0];
  const build: Record<string, unknown> = { buildnumber: initial.buildNumber };
  if (ss) {
    Object.assign(build, {
      branch: ss.branch,
      revision: ss.revision,
      repository: ss.repository,
      codebase: ss.codebase,
      project: ss.project,
    });
  }
  props.updateFrom(
    layerBuildProperties({
      builder: { ...(builder.config.properties ?? {}), buildername: builder.name },
      build: Object.fromEntries(Object.entries(build).filter(([, v]) => v !== undefined)),
      worker: { ...worker.properties, workername: worker.name },
    }),
  );
  return props;
}
