// The force form: the builder's force scheduler's typed parameters (string, text, integer,
// boolean, choice, nested groups) as fields, read from /forceschedulers. Values go to the
// force action as text under their dotted paths (`deploy.host`), and the scheduler judges
// them: the problems it names come back by parameter and show beside their fields. The
// implicit force scheduler declares none and takes any property: name/value rows.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, list, type Resource } from '../api';
import { act, can, useMe } from '../auth';
import { useAsync } from '../hooks';
import { navigate } from '../router';

interface ParameterSpec {
  readonly name: string;
  readonly type: 'string' | 'text' | 'int' | 'boolean' | 'choice' | 'nested';
  readonly label: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly choices?: readonly string[];
  readonly multiple?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly fields?: readonly ParameterSpec[];
}

interface ForceSchedulerSpec {
  readonly name: string;
  readonly builder_names: readonly string[];
  readonly reason_required: boolean;
  /** The implicit scheduler: it takes any property (FreeProperties). */
  readonly any_properties?: boolean;
  readonly parameters: readonly ParameterSpec[];
}

interface FreeProperty {
  readonly id: number;
  readonly name: string;
  readonly value: string;
}

type Problems = ReadonlyMap<string, string>;

const pathOf = (prefix: string, p: ParameterSpec) => (p.name === '' ? prefix : `${prefix}${p.name}`);
const fieldId = (path: string) => `force-${path.replaceAll('.', '-')}`;

/** The values of the form's parameter fields, by dotted path, as the action takes them. */
function collect(
  form: HTMLFormElement,
  params: readonly ParameterSpec[],
  prefix = '',
): Record<string, unknown> {
  const data = new FormData(form);
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const path = pathOf(prefix, p);
    if (p.type === 'nested')
      Object.assign(out, collect(form, p.fields ?? [], p.name === '' ? prefix : `${path}.`));
    else if (p.type === 'boolean') out[path] = data.has(path) ? 'true' : 'false';
    else if (p.type === 'choice' && p.multiple) out[path] = data.getAll(path).map(String);
    else {
      const value = String(data.get(path) ?? '');
      // An empty required field is left out, so the scheduler names it as missing.
      if (value !== '' || !p.required) out[path] = value;
    }
  }
  return out;
}

function Field({ p, prefix, problems }: { p: ParameterSpec; prefix: string; problems: Problems }) {
  const path = pathOf(prefix, p);
  if (p.type === 'nested') {
    const inner = p.fields?.map((f) => (
      <Field key={f.name} p={f} prefix={p.name === '' ? prefix : `${path}.`} problems={problems} />
    ));
    if (p.name === '') return <>{inner}</>;
    return (
      <fieldset data-param={path}>
        <legend>{p.label}</legend>
        {inner}
        <Problem path={path} problems={problems} />
      </fieldset>
    );
  }
  const id = fieldId(path);
  const common = { id, name: path, 'aria-invalid': problems.has(path) || undefined };
  let input: ComponentChildren;
  switch (p.type) {
    case 'text':
      input = <textarea {...common} rows={3} defaultValue={String(p.default ?? '')} />;
      break;
    case 'int':
      // Text, not type=number: what was typed reaches the scheduler, which names the problem.
      input = <input {...common} inputMode="numeric" defaultValue={String(p.default ?? '')} />;
      break;
    case 'boolean':
      input = <input {...common} type="checkbox" defaultChecked={p.default === true} />;
      break;
    case 'choice': {
      const chosen = new Set([p.default ?? []].flat().map(String));
      input = (
        <select {...common} multiple={p.multiple}>
          {(p.choices ?? []).map((c) => (
            <option key={c} value={c} selected={chosen.has(c)}>
              {c}
            </option>
          ))}
        </select>
      );
      break;
    }
    default:
      input = <input {...common} defaultValue={String(p.default ?? '')} />;
  }
  const range =
    p.type === 'int' && (p.min !== undefined || p.max !== undefined)
      ? ` (${p.min ?? '…'}–${p.max ?? '…'})`
      : '';
  return (
    <div class="field" data-param={path}>
      <label for={id}>
        {p.label}
        {p.required ? ' *' : ''}
        <span class="muted">{range}</span>
      </label>
      {input}
      <Problem path={path} problems={problems} />
    </div>
  );
}

function Problem({ path, problems }: { path: string; problems: Problems }) {
  const message = problems.get(path);
  return message ? (
    <span class="error" role="alert" data-error-for={path}>
      {message}
    </span>
  ) : null;
}

/**
 * Name/value rows for a scheduler that takes any property. The server checks the names
 * (reserved ones, such as `owner`, are refused) and its refusals show beside their rows.
 */
function FreeProperties({
  rows,
  setRows,
  problems,
}: {
  rows: readonly FreeProperty[];
  setRows: (rows: readonly FreeProperty[]) => void;
  problems: Problems;
}) {
  const change = (id: number, what: Partial<FreeProperty>) =>
    setRows(rows.map((r) => (r.id === id ? { ...r, ...what } : r)));
  return (
    <fieldset data-testid="free-properties">
      <legend>properties</legend>
      {rows.map((r, i) => (
        <div class="field" key={r.id} data-property-row={i}>
          <input
            aria-label={`property ${i + 1} name`}
            placeholder="name"
            value={r.name}
            aria-invalid={problems.has(r.name.trim()) || undefined}
            onInput={(e) => change(r.id, { name: e.currentTarget.value })}
          />
          <input
            aria-label={`property ${i + 1} value`}
            placeholder="value"
            value={r.value}
            onInput={(e) => change(r.id, { value: e.currentTarget.value })}
          />
          <button
            type="button"
            aria-label={`remove property ${i + 1}`}
            onClick={() => setRows(rows.filter((x) => x.id !== r.id))}
          >
            ×
          </button>
          <Problem path={r.name.trim()} problems={problems} />
        </div>
      ))}
      <button
        type="button"
        onClick={() =>
          setRows([...rows, { id: Math.max(0, ...rows.map((r) => r.id)) + 1, name: '', value: '' }])
        }
      >
        Add property
      </button>
    </fieldset>
  );
}

/** The rows as properties; a row left wholly empty is no property. */
function freeValues(rows: readonly FreeProperty[]): Record<string, string> {
  return Object.fromEntries(
    rows.filter((r) => r.name.trim() !== '' || r.value !== '').map((r) => [r.name.trim(), r.value]),
  );
}

/** Queues a build of the builder through a force scheduler that may force it, then shows the request. */
export function ForceForm({ builderid, builderName }: { builderid: number; builderName: string }) {
  const me = useMe();
  const allowed = can(me, 'force');
  const specs = useAsync(
    async () =>
      allowed ? ((await list<Resource>('/forceschedulers')).items as unknown as ForceSchedulerSpec[]) : [],
    [allowed],
  );
  const [chosen, setChosen] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problems>(new Map());
  const [freeRows, setFreeRows] = useState<readonly FreeProperty[]>([]);
  if (!allowed || !specs.value) return null;
  const mine = specs.value.filter((s) => s.builder_names.includes(builderName));
  const scheduler = mine.find((s) => s.name === chosen) ?? mine[0];
  if (!scheduler) return null;

  const submit = async (form: HTMLFormElement) => {
    setBusy(true);
    setError(null);
    setProblems(new Map());
    try {
      const r = (await act(`/builders/${builderid}`, 'force', {
        scheduler: scheduler.name,
        reason: String(new FormData(form).get('reason') ?? ''),
        properties: {
          ...(scheduler.any_properties ? freeValues(freeRows) : {}),
          ...collect(form, scheduler.parameters),
        },
      })) as { buildrequestid: number };
      navigate(`/buildrequests/${r.buildrequestid}`);
    } catch (err) {
      const found =
        err instanceof ApiError
          ? (err.data?.problems as { parameter: string; message: string }[])
          : undefined;
      if (found?.length) setProblems(new Map(found.map((p) => [p.parameter, p.message])));
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="force-form"
      data-testid="force-form"
      key={scheduler.name}
      onSubmit={(e) => {
        e.preventDefault();
        void submit(e.currentTarget);
      }}
    >
      {mine.length > 1 ? (
        <div class="field">
          <label for="force-scheduler">scheduler</label>
          <select
            id="force-scheduler"
            value={scheduler.name}
            onChange={(e) => setChosen(e.currentTarget.value)}
          >
            {mine.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      {scheduler.parameters.map((p) => (
        <Field key={p.name} p={p} prefix="" problems={problems} />
      ))}
      {scheduler.any_properties ? (
        <FreeProperties rows={freeRows} setRows={setFreeRows} problems={problems} />
      ) : null}
      <div class="field">
        <input
          name="reason"
          placeholder={scheduler.reason_required ? 'reason (required)' : 'reason'}
          aria-label="reason"
          required={scheduler.reason_required}
        />
        <button type="submit" disabled={busy}>
          Force build
        </button>
      </div>
      {error ? (
        <p class="error" role="alert" data-testid="force-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
