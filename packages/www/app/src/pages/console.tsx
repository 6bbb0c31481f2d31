// The console (LUCI-style): one row per change, newest first, one column per builder
// grouped by tag; a cell holds the builds made for that change, coloured by result, and a
// click on one shows its blamelist. Only the changes on screen are read (25 a page, keyset
// paging), each change's builds by one index-backed path (/changes/:id/builds); events
// re-read the window at most every two seconds, never once per event.
import { list, type Resource } from '../api';
import { Loading } from '../components/common';
import { BuildChip, builderGroups, byBuilder } from '../components/matrix';
import { when } from '../format';
import { useAsync, useLiveRead } from '../hooks';
import { Link } from '../router';

const PAGE = 25;
const THROTTLE_MS = 2000;

async function loadRows(after: string | null) {
  const page = await list('/changes', { limit: PAGE, ...(after ? { after } : {}) });
  const builds = await Promise.all(page.items.map((c) => list(`/changes/${c.changeid}/builds`)));
  return { page, builds: page.items.map((_c, i) => byBuilder(builds[i]!.items)) };
}

export function Console({ after }: { after: string | null }) {
  const groups = useAsync(builderGroups, []);
  const rows = useLiveRead(
    () => loadRows(after),
    [after],
    // Older pages get no new changes, but their builds may still start or finish.
    [...(after ? [] : ['changes.*.new']), 'builds.*.new', 'builds.*.finished'],
    THROTTLE_MS,
  );
  return (
    <main class="wide">
      <h1>Console</h1>
      <Loading state={groups}>
        {(groups) => (
          <Loading state={rows}>
            {({ page, builds }) =>
              page.items.length === 0 ? (
                <p class="muted">No changes yet.</p>
              ) : (
                <>
                  <table class="matrix" data-testid="console">
                    <thead>
                      <tr>
                        <th rowSpan={2}>change</th>
                        {groups.map((g) => (
                          <th key={g.tag} colSpan={g.builders.length} class="tag-head">
                            {g.tag ? `#${g.tag}` : 'untagged'}
                          </th>
                        ))}
                      </tr>
                      <tr>
                        {groups.flatMap((g) =>
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
                        <ChangeRow key={String(c.changeid)} change={c} builds={builds[i]!} groups={groups} />
                      ))}
                    </tbody>
                  </table>
                  <nav class="pager">
                    {after ? <Link to="/console">newest</Link> : null}
                    {page.next ? (
                      <Link to={`/console?after=${encodeURIComponent(page.next)}`}>older →</Link>
                    ) : null}
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
