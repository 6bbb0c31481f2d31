// The console (LUCI-style): one row per change, newest first, one column per builder
// grouped by tag; a cell holds the builds made for that change, coloured by result, and a
// click on one shows its blamelist. Only the changes on screen are read (25 a page, keyset
// paging), each change's builds by one index-backed path (/changes/:id/builds); events
// re-read the window at most every two seconds, never once per event.

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

const PAGE = 25;
const THROTTLE_MS = 2000;

async function loadRows(after: string | null, groups: Promise<MatrixBuilders>) {
  const [page, shown] = await Promise.all([
    list('/changes', { limit: PAGE, ...(after ? { after } : {}) }),
    groups,
  ]);
  if (shown.groups.length === 0) return { page, builds: page.items.map(() => new Map<number, Resource[]>()) };
  const builds = await Promise.all(
    page.items.map((c) => shownBuilds(`/changes/${c.changeid}/builds`, shown)),
  );
  return { page, builds: page.items.map((_c, i) => byBuilder(builds[i]!.items)) };
}

export function Console({ after, tag }: { after: string | null; tag: string | null }) {
  // Read once per tag: the rows' reads (again on every burst of events) wait for it.
  const groups = useMemo(() => builderGroups(tag), [tag]);
  const shown = useAsync(() => groups, [groups]);
  const here = (more: Record<string, string>) => {
    const q = new URLSearchParams({ ...(tag ? { tag } : {}), ...more }).toString();
    return q ? `/console?${q}` : '/console';
  };
  const rows = useLiveRead(
    () => loadRows(after, groups),
    [after, groups],
    // Older pages get no new changes, but their builds may still start or finish.
    [...(after ? [] : ['changes.*.new']), 'builds.*.new', 'builds.*.finished'],
    THROTTLE_MS,
  );
  return (
    <main class="wide">
      <h1>Console{tag ? ` #${tag}` : ''}</h1>
      <Loading state={shown}>
        {(shown) => (
          <Loading state={rows}>
            {({ page, builds }) =>
              page.items.length === 0 ? (
                <p class="muted">No changes yet.</p>
              ) : (
                <>
                  <MatrixScope page="console" tag={tag} shown={shown} />
                  <table class="matrix" data-testid="console">
                    <thead>
                      <tr>
                        <th rowSpan={2}>change</th>
                        {shown.groups.map((g) => (
                          <th key={g.tag} colSpan={g.builders.length} class="tag-head">
                            {g.tag ? `#${g.tag}` : 'untagged'}
                          </th>
                        ))}
                      </tr>
                      <tr>
                        {shown.groups.flatMap((g) =>
                          g.builders.map((b) => (
                            <th key={String(b.builderid)}>
                              <Link to={`/builders/${b.builderid}`} class="builder-head">
                                {String(b.name)}
                              </Link>
                            </th>
                          )),
                        )}
                      </tr>
                    </thead>
                    <tbody>
                      {page.items.map((c, i) => (
                        <ChangeRow
                          key={String(c.changeid)}
                          change={c}
                          builds={builds[i]!}
                          groups={shown.groups}
                        />
                      ))}
                    </tbody>
                  </table>
                  <nav class="pager">
                    {after ? <Link to={here({})}>newest</Link> : null}
                    {page.next ? <Link to={here({ after: page.next })}>older →</Link> : null}
                  </nav>
                </>
              )
            }
          </Loading>
        )}
      </Loading>
    </main>
  );
}

function ChangeRow({
  change,
  builds,
  groups,
}: {
  change: Resource;
  builds: Map<number, Resource[]>;
  groups: { builders: Resource[] }[];
}) {
  const revision = String(change.revision ?? '').slice(0, 10);
  return (
    <tr data-change={String(change.changeid)} data-revision={String(change.revision ?? '')}>
      <th
        class="row-head"
        scope="row"
        title={`${String(change.comments)}\n${when(change.when_timestamp as number)}`}
      >
        <code>{revision || `change ${change.changeid}`}</code> {String(change.author).replace(/\s*<.*>$/, '')}
        : <span class="muted">{String(change.comments).split('\n')[0]}</span>
      </th>
      {groups.flatMap((g) =>
        g.builders.map((b) => (
          <td key={String(b.builderid)} data-builder={String(b.name)}>
            {(builds.get(b.builderid as number) ?? []).map((build) => (
              <BuildChip key={String(build.buildid)} build={build} builderName={String(b.name)} />
            ))}
          </td>
        )),
      )}
    </tr>
  );
}
