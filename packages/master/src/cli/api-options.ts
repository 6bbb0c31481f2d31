// What the commands that read through the data API share: where to find it (options and
// their help), and how they print results, times and durations.
import { isResult, resultName } from '../results.js';
import { ApiClient, type ApiResource, resolveTarget } from './api-client.js';

/** The token may come from the environment, so it need not appear in `ps` or shell history. */
export const TOKEN_ENV = 'LATHE_API_TOKEN';

export const API_OPTIONS = {
  dir: { type: 'string', short: 'd' },
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const API_OPTIONS_HELP = `  -d, --dir <dir>      the master directory whose www setting says where its data
                       API is (default: the current directory)
  -c, --config <file>  its config file, relative to dir (default master.config.ts)
  --url <url>          a master's data API elsewhere, e.g. https://ci.example.org/
                       (its /api/v2 is added unless the URL ends with it)
  --token <token>      an API token, sent as Authorization: Bearer (default
                       $${TOKEN_ENV})
  --json               print what the API answered, as JSON
  -h, --help           show this help`;

export interface ApiOptionValues {
  readonly dir?: string;
  readonly config?: string;
  readonly url?: string;
  readonly token?: string;
}

export async function apiClient(values: ApiOptionValues): Promise<ApiClient> {
  const token = values.token ?? process.env[TOKEN_ENV];
  return new ApiClient(
    await resolveTarget({
      dir: values.dir ?? '.',
      ...(values.config === undefined ? {} : { config: values.config }),
      ...(values.url === undefined ? {} : { url: values.url }),
      ...(token ? { token } : {}),
    }),
  );
}

/** `SUCCESS`, `FAILURE`…, or `running` for a build or step that has not finished. */
export function resultText(r: ApiResource): string {
  if (r.complete === false || r.results === null || r.results === undefined) return 'running';
  return isResult(r.results) ? resultName(r.results).toUpperCase() : `result ${String(r.results)}`;
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A start time in the local time of whoever runs the command, `2026-12-04 16:20:01`. */
export function localTime(epoch: number): string {
  const d = new Date(epoch * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** How long it took, or has been running. */
export function took(r: ApiResource, now = Date.now() / 1000): string {
  if (typeof r.started_at !== 'number') return '';
  const end = typeof r.complete_at === 'number' ? r.complete_at : now;
  return duration(end - r.started_at);
}
