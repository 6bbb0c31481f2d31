// A configured builder. Reconfiguring swaps its settings for future builds; builds already
// running keep the factory they started with (the build runner holds its own reference).
import type { ResolvedBuilder } from '../config/types.js';
import type { DataLayer } from '../data/index.js';
import type { DistributorBuilder } from '../distributor/slots.js';
import type { ReconfigurableService } from '../service.js';

export class BuilderService implements ReconfigurableService<ResolvedBuilder>, DistributorBuilder {
  #config: ResolvedBuilder;
  #builderid = 0;

  constructor(
    config: ResolvedBuilder,
    private readonly data: DataLayer,
  ) {
    this.#config = config;
  }

  get name(): string {
    return this.#config.name;
  }
  get config(): ResolvedBuilder {
    return this.#config;
  }
  get builderid(): number {
    return this.#builderid;
  }

  async start(): Promise<void> {
    this.#builderid = await this.data.builders.findOrCreate(this.#config.name);
    await this.#record();
  }

  async reconfigure(config: ResolvedBuilder): Promise<void> {
    this.#config = config;
    await this.#record();
  }

  async stop(): Promise<void> {}

  async #record(): Promise<void> {
    await this.data.builders.update(this.#builderid, {
      description: this.#config.description ?? null,
      tags: this.#config.tags,
      project: this.#config.project ?? null,
    });
  }
}
