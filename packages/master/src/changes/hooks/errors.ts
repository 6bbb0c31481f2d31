// Why a webhook request is refused; each maps to the HTTP status the sender sees.

/** No signature or token where one is required, or a signature that does not match: 401. */
export class HookUnauthenticatedError extends Error {
  override readonly name = 'HookUnauthenticatedError';
  readonly status = 401;
}

/** A token that is present but wrong (GitLab): 403. */
export class HookForbiddenError extends Error {
  override readonly name = 'HookForbiddenError';
  readonly status = 403;
}

/** An authenticated body that is not the payload the provider sends: 400, naming the field. */
export class MalformedPayloadError extends Error {
  override readonly name = 'MalformedPayloadError';
  readonly status = 400;
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export type HookRefusal = HookUnauthenticatedError | HookForbiddenError | MalformedPayloadError;

export function isHookRefusal(err: unknown): err is HookRefusal {
  return (
    err instanceof HookUnauthenticatedError ||
    err instanceof HookForbiddenError ||
    err instanceof MalformedPayloadError
  );
}
