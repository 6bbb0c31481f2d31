// Reads a builder's recent successful builds into the estimator's history.
import type { DataLayer } from '../data/index.js';
import { stepLines, stepLinesAt } from '../metrics/names.js';
import { SKIPPED, SUCCESS, WARNINGS } from '../results.js';
import type { BuildHistory } from './history.js';
import { PROFILE_POINTS } from './output-profile.js';

/**
 * The builder's last `builds` finished builds that succeeded (with or without warnings),
 * oldest first. Failed builds are left out: they often stop early and would teach the
 * estimator that steps are short. Line counts and output profiles come from the
 * `step:<name>:lines` and `step:<name>:lines_at_<25|50|75>` metrics BuildMetricsCollector records.
 */
export async function loadEtaHistory(
  data: DataLayer,
  builderid: number,
  builds = 10,
): Promise<BuildHistory[]> {
  const recent = await data.builds.latestForBuilder(builderid, builds * 3);
  const ok = recent
    .filter((b) => b.completeAt !== null && (b.results === SUCCESS || b.results === WARNINGS))
    .slice(0, builds);
  const ids = ok.map((b) => b.id);
  // Two reads for all of them: this runs while a build starts, ahead of its first command.
  const [stepsOf, metricsOf] = await Promise.all([data.steps.forBuilds(ids), data.metrics.forBuilds(ids)]);
  const out: BuildHistory[] = [];
  for (const b of ok.reverse()) {
    const steps = stepsOf.get(b.id) ?? [];
    const metrics = metricsOf.get(b.id) ?? {};
    out.push({
      durationS: (b.completeAt ?? b.startedAt) - b.startedAt,
      steps: steps
        .filter((s) => s.startedAt !== null && s.completeAt !== null && s.results !== SKIPPED)
        .map((s) => {
          const lines = metrics[stepLines(s.name)];
          const profile = PROFILE_POINTS.map((point) => metrics[stepLinesAt(s.name, point)]);
          return {
            name: s.name,
            durationS: s.completeAt! - s.startedAt!,
            ...(lines === undefined ? {} : { lines }),
            ...(profile.every((v) => v !== undefined) ? { profile: profile as number[] } : {}),
          };
        }),
    });
  }
  return out;
}
