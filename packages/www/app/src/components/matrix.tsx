// What the console and the grid share: builders as columns (or rows) grouped by their
// first tag, and builds as small coloured chips whose blamelist opens on click.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { list, type Resource } from '../api';
import { resultName } from '../format';
import { useAsync } from '../hooks';
import { Link } from '../router';

export interface BuilderGroup {
  readonly tag: string;
  readonly builders: Resource[];
}

/** The most builders a console or grid shows; more would be a page nobody reads. */
export const MATRIX_BUILDERS = 100;

export interface MatrixBuilders {
  readonly groups: BuilderGroup[];
  /** Builders left out past MATRIX_BUILDERS. */
  readonly hidden: number;
  /** Every tag there is, to narrow the view to one. */
  readonly tags: string[];
}

/**
 * The configured builders by first tag (untagged last), each group and builder by name;
 * with `tag`, only the builders that have it. At most MATRIX_BUILDERS of them.
 */
export async function builderGroups(tag?: string | null): Promise<MatrixBuilders> {
  const all = (await list('/builders', { order: 'name' })).items;
  const tags = [...new Set(all.flatMap((b) => (b.tags as string[] | undefined) ?? []))].sort();
  const builders = tag ? all.filter((b) => ((b.tags as string[] | undefined) ?? []).includes(tag)) : all;
  const groups = new Map<string, Resource[]>();
  for (const b of builders.slice(0, MATRIX_BUILDERS)) {
    const first = tag ?? ((b.tags as string[] | undefined) ?? [])[0] ?? '';
    const group = groups.get(first);
    if (group) group.push(b);
    else groups.set(first, [b]);
  }
  return {
    groups: [...groups]
      .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
      .map(([tag, list]) => ({ tag, builders: list })),
    hidden: Math.max(builders.length - MATRIX_BUILDERS, 0),
    tags,
  };
}

/**
 * A console's or grid's frame: its scope line, a failed read's error, and the table (its
 * chips' clicks handled once, on the table) in a box that scrolls on its own, so the page
 * keeps a phone's width.
 */
export function MatrixTable({
  page,
  tag,
  shown,
  error,
  onClick,
  width,
  children,
}: {
  page: string;
  tag: string | null;
  shown: MatrixBuilders;
  error: Error | undefined;
  onClick: (e: MouseEvent) => void;
  /** The table's CSS width: fixed, so thousands of cells are laid out without measuring. */
  width: string;
  children: ComponentChildren;
}) {
  return (
    <>
      <MatrixScope page={page} tag={tag} shown={shown} />
      {error ? (
        <p class="error" role="alert">
          {error.message}
        </p>
      ) : null}
      <div class="matrix-scroll">
        {/* biome-ignore lint/a11y/useKeyWithClickEvents: the clicks are the chips', buttons that Enter and Space press */}
        <table class="matrix" data-testid={page} onClick={onClick} style={{ width }}>
          {children}
        </table>
      </div>
    </>
  );
}

/** Which builders a console or grid shows, and the way to narrow it to a tag. */
export function MatrixScope({
  page,
  tag,
  shown,
}: {
  page: string;
  tag: string | null;
  shown: MatrixBuilders;
}) {
  if (!tag && shown.hidden === 0 && shown.tags.length === 0) return null;
  return (
    <p class="muted" data-testid="matrix-scope">
      {shown.hidden > 0 ? `${shown.hidden} more builders are not shown. ` : ''}
      {tag ? (
        <>
          Builders tagged #{tag} (<Link to={`/${page}`}>all</Link>).{' '}
        </>
      ) : null}
      {shown.tags.length > 0 ? 'Tags: ' : ''}
      {shown.tags.map((t) => (
        <span key={t}>
          <Link to={`/${page}?tag=${encodeURIComponent(t)}`}>#{t}</Link>{' '}
        </span>
      ))}
    </p>
  );
}

/** The fields a build chip and its blamelist use: a matrix reads nothing more. */
const CHIP_FIELDS = ['buildid', 'builderid', 'number', 'results', 'complete', 'state_string'];

/** The ids of the builders a matrix shows, to read only their builds. */
function shownBuilderIds(shown: MatrixBuilders): string[] {
  return shown.groups.flatMap((g) => g.builders.map((b) => String(b.builderid)));
}

/**
 * The builds of `path` (a change's, a buildset's) on the shown builders only, with only the
 * fields a chip uses: with 1,000 builders a change has 1,000 builds, and a console shows 100.
 */
export function shownBuilds(path: string, shown: MatrixBuilders, moreFields: readonly string[] = []) {
  return list(path, { builderid__in: shownBuilderIds(shown), field: [...CHIP_FIELDS, ...moreFields] });
}

/** Builds by builder id, newest first. */
export function byBuilder(builds: readonly Resource[]): Map<number, Resource[]> {
  const out = new Map<number, Resource[]>();
  for (const b of [...builds].sort((x, y) => (y.buildid as number) - (x.buildid as number))) {
    const same = out.get(b.builderid as number);
    if (same) same.push(b);
    else out.set(b.builderid as number, [b]);
  }
  return out;
}

/**
 * Which build's blamelist is open, toggled by one click handler on the whole table: a
 * matrix has thousands of chips, each a plain button (Enter and Space press it) rather than
 * a component with its own state.
 */
export function useOpenChip(): { open: number | null; onClick: (e: MouseEvent) => void } {
  const [open, setOpen] = useState<number | null>(null);
  const onClick = (e: MouseEvent) => {
    const chip = (e.target as Element).closest<HTMLElement>('button.chip[data-buildid]');
    if (!chip) return;
    const id = Number(chip.dataset.buildid);
    setOpen((was) => (was === id ? null : id));
  };
  return { open, onClick };
}

/** A cell's builds: each its number on its result's colour, and the open one's blamelist after it. */
export function buildChips(
  builds: readonly Resource[] | undefined,
  builderName: string,
  open: number | null,
) {
  return (builds ?? []).flatMap((build) => {
    const result = resultName(build.results, Boolean(build.complete));
    const id = build.buildid as number;
    const chip = (
      <button
        key={id}
        type="button"
        class={`chip result-${result}`}
        title={`${builderName} #${build.number}: ${result}, ${String(build.state_string)}`}
        aria-expanded={open === id}
        data-buildid={id}
      >
        {String(build.number)}
      </button>
    );
    return open === id
      ? [chip, <Blamelist key={`blame-${id}`} build={build} builderName={builderName} />]
      : [chip];
  });
}

function Blamelist({ build, builderName }: { build: Resource; builderName: string }) {
  const changes = useAsync(() => list(`/builds/${build.buildid}/blamelist`), [build.buildid]);
  return (
    <div class="popover" role="dialog" aria-label={`blamelist of ${builderName} #${build.number}`}>
      <Link to={`/builders/${build.builderid}/builds/${build.number}`}>
        {builderName} #{String(build.number)}
      </Link>{' '}
      <span class="muted">{String(build.state_string)}</span>
      {changes.error ? <p class="error">{changes.error.message}</p> : null}
      {changes.value ? (
        changes.value.items.length === 0 ? (
          <p class="muted">No changes blamed.</p>
        ) : (
          <ul class="blamelist">
            {changes.value.items.map((c) => (
              <li key={String(c.changeid)}>
                <code>{String(c.revision ?? '').slice(0, 10)}</code> {String(c.author)}:{' '}
                {String(c.comments).split('\n')[0]}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </div>
  );
}
