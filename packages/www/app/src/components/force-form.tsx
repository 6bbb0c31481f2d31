// The force form: the builder's force scheduler's typed parameters (string, text, integer,
// boolean, choice, nested groups) as fields, read from /forceschedulers. Values go to the
// force action as text under their dotted paths (`deploy.host`), and the scheduler judges
// them: the problems it names come back by parameter and show beside their fields.
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
  readonly parameters: readonly ParameterSpec[];
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
        properties: collect(form, scheduler.parameters),
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
