// What a build page shows besides its steps: the changes it is blamed on (the people a
// failure is about), the bisection's verdict when one ran, and its properties. Read again
// when the build's state changes (a blamelist and a verdict are written as the build ends).
import { list, one, type Resource } from '../api';
import { when } from '../format';
import { useAsync } from '../hooks';
import { Link } from '../router';

async function load(buildid: number) {
  const [blamelist, bisection, properties] = await Promise.all([
    list(`/builds/${buildid}/blamelist`, { order: '-changeid', limit: 200 }),
    one(`/builds/${buildid}/bisection`).catch(() => null),
    list(`/builds/${buildid}/properties`, { order: 'name' }),
  ]);
  return { blamelist: blamelist.items, bisection, properties: properties.items };
}

export function BuildDetails({ build }: { build: Resource }) {
  const buildid = build.buildid as number;
  const state = useAsync(() => load(buildid), [buildid, build.complete, build.results]);
  if (!state.value) return null;
  const { blamelist, bisection, properties } = state.value;
  return (
    <>
      {bisection ? <Bisection bisection={bisection} changes={blamelist} /> : null}
      <section data-testid="blamelist">
        <h2>Changes {blamelist.length > 0 ? <span class="muted">({blamelist.length})</span> : null}</h2>
        {blamelist.length === 0 ? (
          <p class="muted">No changes since the last passing build.</p>
        ) : (
          <ul class="changes">
            {blamelist.map((c) => (
              <li key={String(c.changeid)} data-changeid={String(c.changeid)}>
                <strong>{String(c.author)}</strong> <code>{String(c.revision ?? '').slice(0, 12)}</code>{' '}
                <span>{firstLine(String(c.comments ?? ''))}</span>{' '}
                <span class="muted">
                  {String(c.branch ?? '')} {when(c.when_timestamp as number)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <details class="properties" data-testid="properties">
        <summary>Properties ({properties.length})</summary>
        <table>
          <tbody>
            {properties.map((p) => (
              <tr key={String(p.name)}>
                <th>{String(p.name)}</th>
                <td>
                  <code>{JSON.stringify(p.value)}</code>
                </td>
                <td class="muted">{String(p.source)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

function Bisection({ bisection, changes }: { bisection: Resource; changes: Resource[] }) {
  const firstBad = changes.find((c) => c.changeid === bisection.first_bad_changeid);
  const probes =
    (bisection.evidence as { buildid: number | null; revision: string | null; verdict: string }[]) ?? [];
  return (
    <section class="bisection" data-testid="bisection">
      <h2>Bisection: {String(bisection.state)}</h2>
      <p>{String(bisection.summary)}</p>
      {firstBad ? (
        <p>
          First bad change: <strong>{String(firstBad.author)}</strong>{' '}
          <code>{String(firstBad.revision ?? '').slice(0, 12)}</code>{' '}
          {firstLine(String(firstBad.comments ?? ''))}
        </p>
      ) : null}
      {probes.length > 0 ? (
        <ol class="probes">
          {probes.map((p, i) => (
            <li key={String(i)}>
              <code>{String(p.revision ?? '').slice(0, 12)}</code> {p.verdict}
              {p.buildid !== null ? (
                <>
                  {' '}
                  (<Link to={`/builds/${p.buildid}`}>build</Link>)
                </>
              ) : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
