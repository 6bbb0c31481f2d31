// The builds a build triggered (its Trigger steps' buildsets, `parent_buildid`), each with
// its builder and result, kept live by the parent's topic (a trigger step adding its
// buildset) and by each triggered build's own.
import { useEffect, useState } from 'preact/hooks';
import { list, one, type Resource } from '../api';
import { useLiveRead } from '../hooks';
import { Link } from '../router';
import { Result } from './common';

interface Triggered {
  readonly buildset: Resource;
  readonly builds: Resource[];
}

async function load(buildid: number) {
  const buildsets = (await list('/buildsets', { parent_buildid: buildid, order: 'bsid' })).items;
  const builds = await Promise.all(buildsets.map((bs) => list(`/buildsets/${bs.bsid}/builds`)));
  const builderids = [...new Set(builds.flatMap((b) => b.items.map((x) => x.builderid as number)))];
  const builders = await Promise.all(builderids.map((id) => one(`/builders/${id}`)));
  return {
    triggered: buildsets.map((buildset, i): Triggered => ({ buildset, builds: builds[i]!.items })),
    builderNames: new Map(builderids.map((id, i) => [id, String(builders[i]?.name ?? id)])),
  };
}

export function TriggeredBuilds({ buildid }: { buildid: number }) {
  const [topics, setTopics] = useState([`builds.${buildid}`]);
  const state = useLiveRead(() => load(buildid), [buildid], topics);
  const triggered = state.value?.triggered ?? [];
  // Once read, the triggered builds' own topics too: their progress and results.
  const wanted = [buildid, ...triggered.flatMap((t) => t.builds.map((b) => b.buildid))]
    .map((id) => `builds.${id}`)
    .join('\n');
  useEffect(() => setTopics(wanted.split('\n')), [wanted]);
  if (triggered.length === 0) return null;
  const names = state.value!.builderNames;
  return (
    <section data-testid="triggered-builds">
      <h2>Triggered builds</h2>
      <ul class="triggered">
        {triggered.map(({ buildset, builds }) =>
          builds.length === 0 ? (
            <li key={`bs-${buildset.bsid}`} class="muted">
              buildset {String(buildset.bsid)}: not started yet
            </li>
          ) : (
            builds.map((b) => (
              <li key={String(b.buildid)} data-buildid={String(b.buildid)}>
                <Result results={b.results} complete={b.complete} />{' '}
                <Link to={`/builds/${b.buildid}`}>
                  {names.get(b.builderid as number)} #{String(b.number)}
                </Link>{' '}
                <span class="muted">{String(b.state_string ?? '')}</span>
              </li>
            ))
          ),
        )}
      </ul>
    </section>
  );
}
