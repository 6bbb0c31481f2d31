// How data API failures become HTTP answers: 400 names the parameter and field at fault.
import { ApiNotFoundError } from '../api/data-api.js';
import { LogSearchError } from '../api/log-search.js';
import { QueryError } from '../api/query.js';
import { NotFoundError } from '../data/errors.js';

export interface HttpError {
  readonly status: number;
  readonly body: { readonly error: string; readonly param?: string; readonly field?: string };
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
  if (err instanceof LogSearchError) return { status: err.status, body: { error: err.message } };
  return undefined;
}
