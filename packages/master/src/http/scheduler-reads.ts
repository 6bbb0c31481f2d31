// Reads of the configured schedulers, which live in the running master rather than in the
// database: `/api/v2/forceschedulers` (each force scheduler's builders and typed
// parameters, what the web UI's force form renders, as Buildbot's resource of that name)
// and `/api/v2/schedulers` (every scheduler's kind, builders and next run, what
// `lathe status` shows).
import type { FastifyInstance } from 'fastify';
import type { Master } from '../master.js';
import { ForceScheduler } from '../schedulers/force.js';
import type { ForceParameter } from '../schedulers/force-parameters.js';

/** A parameter as JSON: a regex as its source text. */
function parameterSpec(p: ForceParameter): Record<string, unknown> {
  const base = { name: p.name, type: p.type, label: p.label ?? p.name, required: p.required ?? false };
  switch (p.type) {
    case 'string':
    case 'text':
      return {
        ...base,
        default: p.default ?? '',
        ...(p.regex ? { regex: p.regex.source } : {}),
        ...(p.maxLength !== undefined ? { maxLength: p.maxLength } : {}),
      };
    case 'int':
      return {
        ...base,
        default: p.default ?? 0,
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
      };
    case 'boolean':
      return { ...base, default: p.default ?? false };
    case 'choice':
      return {
        ...base,
        choices: p.choices,
        multiple: p.multiple ?? false,
        default: p.default ?? (p.multiple ? [] : p.choices[0]),
      };
    case 'nested':
      return { ...base, fields: p.fields.map(parameterSpec) };
  }
}

function forceSchedulerSpecs(master: Master): Record<string, unknown>[] {
  return [...master.schedulers.values()]
    .filter((s): s is ForceScheduler => s instanceof ForceScheduler)
    .map(({ config }) => ({
      name: config.name,
      builder_names: config.builderNames,
      reason_required: config.reasonRequired,
      // The implicit scheduler declares nothing and takes any property.
      any_properties: config.implicit,
      parameters: config.parameters.map(parameterSpec),
    }));
}

function schedulerStatuses(master: Master): Record<string, unknown>[] {
  return [...master.schedulers.values()].map((s) => {
    const status = s.status?.() ?? { kind: s.config.kind, nextRunAt: null, lastRunAt: null };
    return {
      name: s.name,
      kind: status.kind,
      builder_names: s.config.builderNames,
      next_run_at: status.nextRunAt,
      last_run_at: status.lastRunAt,
    };
  });
}

export function registerSchedulerReads(app: FastifyInstance, master: Master, apiPrefix: string): void {
  app.get(`${apiPrefix}/forceschedulers`, () => {
    const list = forceSchedulerSpecs(master);
    return { forceschedulers: list, meta: { total: list.length } };
  });
  app.get(`${apiPrefix}/schedulers`, () => {
    const list = schedulerStatuses(master);
    return { schedulers: list, meta: { total: list.length } };
  });
}
