// The grid: one row per builder grouped by tag, one column per recent buildset (newest on
// the left), each cell the builds started for that buildset on that builder. Reads the
// newest buildsets and each one's builds by one index-backed path (/buildsets/:id/builds);
// events re-read at most every two seconds. Builders with nothing recent keep their row.

import { useMemo } from 'preact/hooks';
import { list, type Resource } from '../api';
import { Loading } from '../components/common';
import {
  BuildChip,
  builderGroups,
  byBuilder,
  type MatrixBuilders,
  MatrixScope,
  shownBuilds,
} from '../components/matrix';
import { when } from '../format';
import { useAsync, useLiveRead } from '../hooks';
import { Link } from '../router';

const COLUMNS = 20;
const THROTTLE_MS = 2000;

async function loadColumns(groups: Promise<MatrixBuilders>) {
  const [sets, shown] = await Promise.all([list('/buildsets', { limit: COLUMNS }), groups]);
  if (shown.groups.length === 0)
    return sets.items.map((set) => ({ set, builds: new Map<number, Resource[]>() }));
  const builds = await Promise.all(sets.items.map((s) => shownBuilds(`/buildsets/${s.bsid}/builds`, shown)));
  return sets.items.map((set, i) => ({ set, builds: byBuilder(builds[i]!.items) }));
}

/** What a column is about: the revision it built, else the buildset's reason. */
function columnLabel(set: Resource): string {
  const stamps = (set.sourcestamps as { revision: string | null; branch: string | null }[] | undefined) ?? [];
  const revision = stamps.find((s) => s.revision)?.revision;
  return revision ? revision.slice(0, 8) : `#${set.bsid}`;
}

export function Grid({ tag }: { tag: string | null }) {
  // Read once per tag: the columns' reads (again on every burst of events) wait for it.
  const groups = useMemo(() => builderGroups(tag), [tag]);
  const shown = useAsync(() => groups, [groups]);
  const columns = useLiveRead(
    () => loadColumns(groups),
    [groups],
    ['buildsets.*.new', 'builds.*.new', 'builds.*.finished'],
    THROTTLE_MS,
  );
  return (
    <main class="wide">
      <h1>Grid{tag ? ` #${tag}` : ''}</h1>
      <Loading state={shown}>
        {(shown) => (
          <Loading state={columns}>
            {(columns) => (
              <>
                <MatrixScope page="grid" tag={tag} shown={shown} />
                <table class="matrix" data-testid="grid">
                  <thead>
                    <tr>
                      <th>builder</th>
                      {columns.map(({ set }) => (
                        <th
                          key={String(set.bsid)}
                          title={`${String(set.reason)}\n${when(set.submitted_at as number)}`}
                        >
                          <code>{columnLabel(set)}</code>
                        </th>
                      ))}
                    </tr>
                  </thead>
                  {shown.groups.map((g) => (
                    <tbody key={g.tag}>
                      <tr>
                        <th class="tag-head" colSpan={columns.length + 1}>
                          {g.tag ? `#${g.tag}` : 'untagged'}
                        </th>
                      </tr>
                      {g.builders.map((b) => (
                        <tr key={String(b.builderid)} data-builder={String(b.name)}>
                          <th class="row-head" scope="row">
                            <Link to={`/builders/${b.builderid}`}>{String(b.name)}</Link>
                          </th>
                          {columns.map(({ set, builds }) => (
                            <td key={String(set.bsid)} data-buildset={String(set.bsid)}>
                              {(builds.get(b.builderid as number) ?? []).map((build) => (
                                <BuildChip
                                  key={String(build.buildid)}
                                  build={build}
                                  builderName={String(b.name)}
                                />
                              ))}
                            </td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  ))}
                </table>
              </>
            )}
          </Loading>
        )}
      </Loading>
    </main>
  );
}
