// How data API failures become HTTP answers: 400 names the parameter and field at fault.
import { ApiNotFoundError } from '../api/data-api.js';
import { LogSearchError } from '../api/log-search.js';
import { QueryError } from '../api/query.js';
import { NotFoundError } from '../data/errors.js';
import { AuthError, BadAuthRequest } from './auth.js';

export interface HttpError {
  readonly status: number;
  readonly body: { readonly error: string; readonly param?: string; readonly field?: string };
  readonly headers?: Readonly<Record<string, string>>;
}

export function httpError(err: unknown): HttpError | undefined {
  if (err instanceof QueryError)
    return {
      status: 400,
      body: {
        error: err.message,
        param: err.param,
        ...(err.field === undefined ? {} : { field: err.field }),
      },
    };
  if (err instanceof ApiNotFoundError || err instanceof NotFoundError)
    return { status: 404, body: { error: err.message } };
  if (err instanceof AuthError)
    return {
      status: err.status,
      body: { error: err.message },
      ...(err.retryAfterSeconds === undefined
        ? {}
        : { headers: { 'retry-after': String(err.retryAfterSeconds) } }),
    };
  if (err instanceof BadAuthRequest) return { status: 400, body: { error: err.message } };
  if (err instanceof LogSearchError) return { status: err.status, body: { error: err.message } };
  return undefined;
}
