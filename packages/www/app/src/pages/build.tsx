// One build: its steps with results, summaries and durations, each step's logs, all kept
// live by the build's own topic (which carries its steps' events too). Events carry the
// full resource, so a step's change is shown as it arrives, without reading the build again;
// only a step's list of logs is read (once per burst) when the step changes.

import { useEffect, useRef, useState } from 'preact/hooks';
import { list, one, type Resource } from '../api';
import { BuildActions } from '../components/actions';
import { Annotations } from '../components/annotations';
import { BuildDetails } from '../components/build-details';
import { Loading, Result } from '../components/common';
import { TriggeredBuilds } from '../components/triggered-builds';
import { duration, when } from '../format';
import { type Async, useAsync, useLive, useNow } from '../hooks';
import { Link } from '../router';

async function load(builderid: number, number: number) {
  // The steps by the build's number, not its id: read with the build, not after it.
  const [builder, build, { items: steps }] = await Promise.all([
    one(`/builders/${builderid}`),
    one(`/builders/${builderid}/builds/${number}`),
    list(`/builders/${builderid}/builds/${number}/steps`, { order: 'number' }),
  ]);
  if (!build) return { builder, build: null, steps: [] as StepWithLogs[] };
  const logs = await Promise.all(steps.map((s) => list(`/steps/${s.stepid}/logs`)));
  return { builder, build, steps: steps.map((s, i) => ({ step: s, logs: logs[i]!.items })) };
}

type Loaded = Awaited<ReturnType<typeof load>>;

/** A build event applied to what the page shows: the build itself, or one of its steps. */
function applyEvent(shown: Loaded, resourceType: string, resource: Resource): Loaded {
  if (!shown.build) return shown;
  if (resourceType === 'builds' && resource.buildid === shown.build.buildid)
    return { ...shown, build: { ...shown.build, ...resource } };
  if (resourceType === 'steps' && resource.buildid === shown.build.buildid) {
    const at = shown.steps.findIndex((s) => s.step.stepid === resource.stepid);
    const steps =
      at === -1
        ? [...shown.steps, { step: resource, logs: [] }].sort(
            (a, b) => (a.step.number as number) - (b.step.number as number),
          )
        : shown.steps.map((s, i) => (i === at ? { ...s, step: { ...s.step, ...resource } } : s));
    return { ...shown, steps };
  }
  return shown;
}

/** How long a step's log list waits for more of its events before it is read. */
const LOGS_READ_MS = 100;

/**
 * The build, its steps and their logs: read once, then moved on by the build's events; a
 * resync (events lost) reads everything again.
 */
function useLiveBuild(builderid: number, number: number, buildid: number | undefined): Async<Loaded> {
  const loaded = useAsync(() => load(builderid, number), [builderid, number, buildid]);
  const [shown, setShown] = useState<Loaded | undefined>(undefined);
  useEffect(() => setShown(loaded.value), [loaded.value]);
  const logReads = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  useEffect(
    () => () => {
      for (const t of logReads.current.values()) clearTimeout(t);
      logReads.current.clear();
    },
    [buildid],
  );
  const readLogs = (stepid: number) => {
    if (logReads.current.has(stepid)) return;
    logReads.current.set(
      stepid,
      setTimeout(() => {
        logReads.current.delete(stepid);
        void list(`/steps/${stepid}/logs`).then((page) =>
          setShown(
            (v) =>
              v && {
                ...v,
                steps: v.steps.map((s) => (s.step.stepid === stepid ? { ...s, logs: page.items } : s)),
              },
          ),
        );
      }, LOGS_READ_MS),
    );
  };
  useLive(buildid ? [`builds.${buildid}`] : [`builders.${builderid}.builds.${number}`], (m) => {
    if (m.type === 'resync' || buildid === undefined) return loaded.reload();
    setShown((v) => v && applyEvent(v, m.resourceType, m.resource));
    if (m.resourceType === 'steps') readLogs(m.resource.stepid as number);
  });
  return { ...loaded, value: shown ?? loaded.value };
}

// Links a step added are shown only when they are web links: never `javascript:` or `data:`.
const SAFE_URL = /^https?:\/\//i;

interface StepWithLogs {
  readonly step: Resource;
  readonly logs: Resource[];
}

export function Build({ builderid, number }: { builderid: number; number: number }) {
  const now = useNow();
  // The build's id is needed for its topic; the first read finds it.
  const id = useAsync(() => one(`/builders/${builderid}/builds/${number}`), [builderid, number]);
  const buildid = id.value?.buildid as number | undefined;
  const state = useLiveBuild(builderid, number, buildid);
  return (
    <main>
      <Loading state={state}>
        {({ builder, build, steps }) =>
          build === null ? (
            <p class="error">
              {String(builder?.name ?? `Builder ${builderid}`)} has no build #{number}.
            </p>
          ) : (
            <>
              <h1>
                <Link to={`/builders/${builderid}`}>{String(builder?.name ?? builderid)}</Link> #{number}{' '}
                <Result results={build.results} complete={build.complete} />
              </h1>
              <p data-testid="build-state">
                {String(build.state_string)} <BuildActions build={build} />
              </p>
              <p class="muted">
                started {when(build.started_at as number)}
                {build.complete
                  ? `, took ${duration((build.complete_at as number) - (build.started_at as number))}`
                  : `, running for ${duration(now / 1000 - (build.started_at as number))}`}
              </p>
              <Annotations buildid={build.buildid as number} />
              <Steps builderid={builderid} number={number} steps={steps} now={now} />
              <TriggeredBuilds buildid={build.buildid as number} />
              <BuildDetails build={build} />
            </>
          )
        }
      </Loading>
    </main>
  );
}

function Steps({ steps, now }: { builderid: number; number: number; steps: StepWithLogs[]; now: number }) {
  if (steps.length === 0) return <p class="muted">No steps yet.</p>;
  return (
    <ol class="steps" data-testid="steps">
      {steps.map(({ step, logs }) => {
        const started = step.started_at as number | null;
        const took =
          started === null ? '' : duration(((step.complete_at as number | null) ?? now / 1000) - started);
        return (
          <li key={String(step.stepid)} class="step" data-step={String(step.name)}>
            <div class="step-head">
              <Result
                results={step.results}
                complete={step.complete || started === null ? step.complete : false}
              />
              <strong>{String(step.name)}</strong>
              <span>{String(step.state_string)}</span>
              <span class="muted">{took}</span>
            </div>
            {logs.length > 0 || (step.urls as unknown[]).length > 0 ? (
              <ul class="links">
                {logs.map((l) => (
                  <li key={String(l.logid)}>
                    <Link to={`/logs/${l.logid}`}>
                      {String(l.name)} <span class="muted">({String(l.num_lines)} lines)</span>
                    </Link>
                  </li>
                ))}
                {(step.urls as { name: string; url: string }[])
                  .filter((u) => SAFE_URL.test(u.url))
                  .map((u) => (
                    <li key={u.url}>
                      <a href={u.url} rel="noopener noreferrer">
                        {u.name}
                      </a>
                    </li>
                  ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

/** `/builds/<buildid>`: the same page, for links that know only the build's id. */
export function BuildById({ buildid }: { buildid: number }) {
  const state = useAsync(() => one(`/builds/${buildid}`), [buildid]);
  return (
    <Loading state={state}>
      {(build) =>
        build === null ? (
          <main>
            <p class="error">There is no build {buildid}.</p>
          </main>
        ) : (
          <Build builderid={build.builderid as number} number={build.number as number} />
        )
      }
    </Loading>
  );
}
