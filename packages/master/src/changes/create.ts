// Every kind of change source the config can name, and the service for each.
import type { ChangeSource, ChangeSourceContext } from './change-source.js';
import { PBChangeSource, type PBChangeSourceConfig } from './pb-change-source.js';

export type ChangeSourceConfig = PBChangeSourceConfig;

export function createChangeSource(config: ChangeSourceConfig, ctx: ChangeSourceContext): ChangeSource {
  switch (config.type) {
    case 'pb':
      return new PBChangeSource(config, ctx);
  }
}
