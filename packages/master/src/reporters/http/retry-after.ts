// How long a receiver asked us to wait. Providers say it differently: the standard
// `Retry-After` header (seconds or an HTTP date), GitHub's rate limit reset time, Matrix's
// `retry_after_ms`, Discord's and Zulip's `retry_after` / `retry-after` seconds in the body.

const MAX_DELAY_MS = 60 * 60 * 1000;

export interface RateLimitedAnswer {
  header(name: string): string | undefined;
  readonly body: string;
}

/** The delay in milliseconds (0..1 h), or undefined when the answer does not say. */
export function retryAfterMs(answer: RateLimitedAnswer, now = Date.now()): number | undefined {
  const ms =
    fromRetryAfterHeader(answer.header('retry-after'), now) ??
    fromRateLimitReset(answer, now) ??
    fromJsonBody(answer.body);
  return ms === undefined ? undefined : Math.min(MAX_DELAY_MS, Math.max(0, Math.ceil(ms)));
}

/** GitHub answers an exhausted rate limit with 403 (not 429) and these headers. */
export function isRateLimitExhausted(answer: RateLimitedAnswer): boolean {
  return answer.header('x-ratelimit-remaining') === '0' || answer.header('retry-after') !== undefined;
}

function fromRetryAfterHeader(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date - now;
}

function fromRateLimitReset(answer: RateLimitedAnswer, now: number): number | undefined {
  if (answer.header('x-ratelimit-remaining') !== '0') return undefined;
  const reset = Number(answer.header('x-ratelimit-reset'));
  return Number.isFinite(reset) && reset > 0 ? reset * 1000 - now : undefined;
}

function fromJsonBody(body: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Record<string, unknown>;
  if (isDelay(o.retry_after_ms)) return o.retry_after_ms;
  const seconds = o.retry_after ?? o['retry-after'];
  return isDelay(seconds) ? seconds * 1000 : undefined;
}

function isDelay(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
