// How an HTTP delivery attempt failed, in the two kinds the delivery framework tells apart:
// worth retrying (the receiver is down, slow, overloaded or rate-limiting us) or not (it
// refused the request as it is: retrying the same request cannot help).
import { PermanentDeliveryError } from '../report.js';

export class RetryableDeliveryError extends Error {
  override readonly name = 'RetryableDeliveryError';

  constructor(
    message: string,
    /** The HTTP status, when the receiver answered at all. */
    readonly status: number | undefined,
    /**
     * How long the receiver asked us to wait before trying again, in milliseconds (from
     * `Retry-After`, a rate limit's reset time, or the provider's `retry_after` field);
     * undefined when it did not say. The framework waits at least this long before the next
     * attempt (capped at an hour so a wrong header cannot stall a reporter for days).
     */
    readonly retryAfterMs: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The receiver refused the request (a 4xx other than 408/429, a redirect). */
export class PermanentHttpError extends PermanentDeliveryError {
  override readonly name = 'PermanentHttpError';

  constructor(
    message: string,
    readonly status: number,
    /** The start of the receiver's answer, with every secret of the request masked. */
    readonly responseText: string,
  ) {
    super(message);
  }
}
