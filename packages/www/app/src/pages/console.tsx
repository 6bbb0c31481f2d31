// The console (LUCI-style): one row per change, newest first, one column per builder
// grouped by tag; a cell holds the builds made for that change, coloured by result, and a
// click on one shows its blamelist. Only the changes on screen are read (25 a page, keyset
// paging), then their builds in one read along indexes (/changes/:ids/builds); the rows
// are drawn before the builds answer. Events re-read the window at most every two seconds,
// never once per event.

import { Component } from 'preact';
import { useMemo } from 'preact/hooks';
import { list, type Page, type Resource } from '../api';
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

const PAGE = 25;
const THROTTLE_MS = 2000;

/** Builds by change id, then by builder id. */
type CellBuilds = Map<number, Map<number, Resource[]>>;

interface Rows {
  readonly page: Page<Resource>;
  /**
   * The page's builds, still on their way: the rows are drawn as soon as the changes are
   * known (the largest paint of the page), and the cells fill in when these answer.
   */
  readonly builds: Promise<CellBuilds>;
}

async function loadRows(after: string | null, groups: Promise<MatrixBuilders>): Promise<Rows> {
  const page = await list('/changes', { limit: PAGE, ...(after ? { after } : {}) });
  const builds = groups.then((shown) => loadBuilds(page.items, shown));
  // The table shows its failure; with no table (no changes, a newer read) none is due.
  builds.catch(() => {});
  return { page, builds };
}

/** The page's builds in one read (`/changes/:changeids/builds`), then by change. */
async function loadBuilds(changes: readonly Resource[], shown: MatrixBuilders): Promise<CellBuilds> {
  if (shown.groups.length === 0 || changes.length === 0) return new Map();
  const ids = changes.map((c) => c.changeid as number);
  const { items } = await shownBuilds(`/changes/${ids.join(',')}/builds`, shown, ['changeids']);
  const byChange = new Map<number, Resource[]>(ids.map((id) => [id, []]));
  for (const build of items)
    for (const changeid of build.changeids as number[]) byChange.get(changeid)?.push(build);
  return new Map([...byChange].map(([id, builds]) => [id, byBuilder(builds)]));
}

export function Console({ after, tag }: { after: string | null; tag: string | null }) {
  // Read once per tag: the cells' reads (again on every burst of events) wait for it.
  const groups = useMemo(() => builderGroups(tag), [tag]);
  const shown = useAsync(() => groups, [groups]);
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
            {(rows) =>
              rows.page.items.length === 0 ? (
                <p class="muted">No changes yet.</p>
              ) : (
                <ConsoleTable rows={rows} shown={shown} after={after} tag={tag} />
              )
            }
          </Loading>
        )}
      </Loading>
    </main>
  );
}

function ConsoleTable({
  rows: { page, builds: reading },
  shown,
  after,
  tag,
}: {
  rows: Rows;
  shown: MatrixBuilders;
  after: string | null;
  tag: string | null;
}) {
  // A re-read keeps the cells it had until its answer replaces them.
  const builds = useAsync(() => reading, [reading]);
  const { open, onClick } = useOpenChip();
  const here = (more: Record<string, string>) => {
    const q = new URLSearchParams({ ...(tag ? { tag } : {}), ...more }).toString();
    return q ? `/console?${q}` : '/console';
  };
  const columns = shown.groups.reduce((n, g) => n + g.builders.length, 0);
  return (
    <>
      <MatrixTable
        page="console"
        tag={tag}
        shown={shown}
        error={builds.error}
        onClick={onClick}
        width={`calc(22rem + ${columns} * 3em)`}
      >
        <colgroup>
          <col class="head-col" />
          <col span={columns} class="build-col" />
        </colgroup>
        <thead>
          <tr>
            <th rowSpan={2}>change</th>
            {shown.groups.map((g) => (
              <th
                key={g.tag}
                colSpan={g.builders.length}
                class="tag-head"
                title={g.tag ? `#${g.tag}` : 'untagged'}
              >
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
          {page.items.map((c) => {
            const cells = builds.value?.get(c.changeid as number);
            return (
              <ChangeRow
                key={String(c.changeid)}
                change={c}
                builds={cells}
                groups={shown.groups}
                columns={columns}
                open={holds(cells, open) ? open : null}
              />
            );
          })}
        </tbody>
      </MatrixTable>
      <nav class="pager">
        {after ? <Link to={here({})}>newest</Link> : null}
        {page.next ? <Link to={here({ after: page.next })}>older →</Link> : null}
      </nav>
    </>
  );
}

/** Whether a row's builds include the build `open` (a chip whose blamelist is shown). */
function holds(builds: Map<number, Resource[]> | undefined, open: number | null): boolean {
  if (open === null || !builds) return false;
  for (const list of builds.values()) if (list.some((b) => b.buildid === open)) return true;
  return false;
}

interface ChangeRowProps {
  change: Resource;
  builds: Map<number, Resource[]> | undefined;
  groups: { builders: Resource[] }[];
  columns: number;
  /** The open chip's build when it is in this row, else null. */
  open: number | null;
}

/**
 * A row drawn again only when its props change: opening a chip's blamelist redraws the
 * row that holds it (and the one that held the last), not all 25 × 100 cells.
 */
class ChangeRow extends Component<ChangeRowProps> {
  override shouldComponentUpdate(next: ChangeRowProps): boolean {
    const shown = this.props;
    return (Object.keys(next) as (keyof ChangeRowProps)[]).some((k) => next[k] !== shown[k]);
  }

  override render({ change, builds, groups, columns, open }: ChangeRowProps) {
    return changeRow(change, builds, groups, columns, open);
  }
}

/**
 * One change's row: plain elements, as each of its cells (a page has 2,500 of them). Before
 * its builds are known, one empty cell across the builders: the rows show at once.
 */
function changeRow(
  change: Resource,
  builds: Map<number, Resource[]> | undefined,
  groups: { builders: Resource[] }[],
  columns: number,
  open: number | null,
) {
  const revision = String(change.revision ?? '').slice(0, 10);
  return (
    <tr
      key={String(change.changeid)}
      data-change={String(change.changeid)}
      data-revision={String(change.revision ?? '')}
    >
      <th
        class="row-head"
        scope="row"
        title={`${String(change.comments)}\n${when(change.when_timestamp as number)}`}
      >
        <code>{revision || `change ${change.changeid}`}</code> {String(change.author).replace(/\s*<.*>$/, '')}
        : <span class="muted">{String(change.comments).split('\n')[0]}</span>
      </th>
      {!builds ? (
        <td colSpan={columns} />
      ) : (
        groups.flatMap((g) =>
          g.builders.map((b) => (
            <td key={String(b.builderid)} data-builder={String(b.name)}>
              {buildChips(builds.get(b.builderid as number), String(b.name), open)}
            </td>
          )),
        )
      )}
    </tr>
  );
}
