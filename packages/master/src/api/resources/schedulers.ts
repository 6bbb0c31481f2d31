// Schedulers: every configured one, who runs it and its timed runs (data/service-records.ts).
import type { ResourceType } from '../resource.js';
import { flag, int, json, str } from './fields.js';

export const schedulers: ResourceType = {
  name: 'scheduler',
  plural: 'schedulers',
  table: 'schedulers',
  idField: 'schedulerid',
  description: 'A scheduler of the config: what starts builds from changes, clocks, triggers and requests.',
  fields: {
    schedulerid: int('id', 'the scheduler’s id'),
    name: str('name', 'its name in the config'),
    kind: str('kind', 'its kind: SingleBranchScheduler, Nightly, Periodic, ForceScheduler, Triggerable, …'),
    builder_names: json('builder_names', 'array', 'the builders it starts builds on', {
      type: 'array',
      items: { type: 'string' },
    }),
    enabled: flag('enabled', 'whether a master runs it now'),
    masterid: int(
      'masterid',
      'the master running it; null when none does, or every master does (force, trigger and try schedulers with `cluster`)',
      true,
    ),
    next_run_at: int(
      'next_run_at',
      'its next run (a timed run, a tree-stable timer), epoch seconds; null when none is due',
      true,
    ),
    last_run_at: int('last_run_at', 'its last timed run, epoch seconds', true),
  },
  paths: [
    {
      pattern: '/schedulers',
      params: {},
      collection: true,
      description: 'every configured scheduler',
      constraints: () => ({}),
    },
    {
      pattern: '/schedulers/:schedulerid',
      params: { schedulerid: 'integer' },
      collection: false,
      description: 'one scheduler by id',
      constraints: (p) => ({ id: p.schedulerid! }),
    },
    {
      pattern: '/schedulers/:name',
      params: { name: 'identifier' },
      collection: false,
      description: 'one scheduler by name',
      constraints: (p) => ({ name: p.name! }),
    },
    {
      pattern: '/masters/:masterid/schedulers',
      params: { masterid: 'integer' },
      collection: true,
      description: 'the schedulers a master runs alone (under its lease, or as the only master)',
      constraints: (p) => ({ masterid: p.masterid! }),
    },
  ],
  topics: (s, what) => [`schedulers.${s.schedulerid}.${what}`],
};
