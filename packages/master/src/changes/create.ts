// Every kind of change source the config can name, and the service for each.
import type { ChangeSource, ChangeSourceContext } from './change-source.js';
import { GitPoller, type GitPollerConfig } from './git-poller.js';
import { PBChangeSource, type PBChangeSourceConfig } from './pb-change-source.js';

export type ChangeSourceConfig = PBChangeSourceConfig | GitPollerConfig;

export function createChangeSource(config: ChangeSourceConfig, ctx: ChangeSourceContext): ChangeSource {
  switch (config.type) {
    case 'pb':
      return new PBChangeSource(config, ctx);
    case 'git':
      return new GitPoller(config, ctx);
  }
}
