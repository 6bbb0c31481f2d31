// The grid: one row per builder grouped by tag, one column per recent buildset (newest on
// the left), each cell the builds started for that buildset on that builder. Reads the
// newest buildsets, then their builds in one read along indexes (/buildsets/:ids/builds);
// the rows are drawn before the builds answer. Events re-read at most every two seconds.
// Builders with nothing recent keep their row.

import { useMemo } from 'preact/hooks';
import { list, type Resource } from '../api';
import { Loading } from '../components/common';
import {
  buildChips,
  builderGroups,
  byBuilder,
  type MatrixBuilders,
  MatrixTable,
  shownBuilds,
  useOpenChip,
} from '../components/matrix';
import { when } from '../format';
import { useAsync, useLiveRead } from '../hooks';
import { Link } from '../router';

const COLUMNS = 20;
const THROTTLE_MS = 2000;

/** Builds by buildset id, then by builder id. */
type CellBuilds = Map<number, Map<number, Resource[]>>;

interface Columns {
  readonly sets: Resource[];
  /** The columns' builds, still on their way: the table is drawn before they answer. */
  readonly builds: Promise<CellBuilds>;
}

async function loadColumns(groups: Promise<MatrixBuilders>): Promise<Columns> {
  const sets = (await list('/buildsets', { limit: COLUMNS })).items;
  const builds = groups.then((shown) => loadBuilds(sets, shown));
  // The table shows its failure; with no table (a newer read) none is due.
  builds.catch(() => {});
  return { sets, builds };
}

/** The columns' builds in one read (`/buildsets/:bsids/builds`), then by buildset. */
async function loadBuilds(sets: readonly Resource[], shown: MatrixBuilders): Promise<CellBuilds> {
  if (shown.groups.length === 0 || sets.length === 0) return new Map();
  const ids = sets.map((s) => s.bsid as number);
  const { items } = await shownBuilds(`/buildsets/${ids.join(',')}/builds`, shown, ['buildsetid']);
  const bySet = new Map<number, Resource[]>(ids.map((id) => [id, []]));
  for (const build of items) bySet.get(build.buildsetid as number)?.push(build);
  return new Map([...bySet].map(([id, builds]) => [id, byBuilder(builds)]));
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
            {(columns) => <GridTable columns={columns} shown={shown} tag={tag} />}
          </Loading>
        )}
      </Loading>
    </main>
  );
}

function GridTable({
  columns: { sets, builds: reading },
  shown,
  tag,
}: {
  columns: Columns;
  shown: MatrixBuilders;
  tag: string | null;
}) {
  // A re-read keeps the cells it had until its answer replaces them.
  const builds = useAsync(() => reading, [reading]);
  const { open, onClick } = useOpenChip();
  return (
    <MatrixTable
      page="grid"
      tag={tag}
      shown={shown}
      error={builds.error}
      onClick={onClick}
      width={`calc(22rem + ${sets.length} * 6em)`}
    >
      <colgroup>
        <col class="head-col" />
        <col span={sets.length} class="buildset-col" />
      </colgroup>
      <thead>
        <tr>
          <th>builder</th>
          {sets.map((set) => (
            <th key={String(set.bsid)} title={`${String(set.reason)}\n${when(set.submitted_at as number)}`}>
              <code>{columnLabel(set)}</code>
            </th>
          ))}
        </tr>
      </thead>
      {shown.groups.map((g) => (
        <tbody key={g.tag}>
          <tr>
            <th class="tag-head" colSpan={sets.length + 1}>
              {g.tag ? `#${g.tag}` : 'untagged'}
            </th>
          </tr>
          {g.builders.map((b) => (
            <tr key={String(b.builderid)} data-builder={String(b.name)}>
              <th class="row-head" scope="row">
                <Link to={`/builders/${b.builderid}`}>{String(b.name)}</Link>
              </th>
              {/* Before the builds are known, one empty cell across: the rows show at once. */}
              {!builds.value ? (
                <td colSpan={sets.length} />
              ) : (
                sets.map((set) => (
                  <td key={String(set.bsid)} data-buildset={String(set.bsid)}>
                    {buildChips(
                      builds.value?.get(set.bsid as number)?.get(b.builderid as number),
                      String(b.name),
                      open,
                    )}
                  </td>
                ))
              )}
            </tr>
          ))}
        </tbody>
      ))}
    </MatrixTable>
  );
}
