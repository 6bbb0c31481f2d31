/** An Interpolate format string that cannot be parsed; raised at configuration time. */
export class InterpolateSyntaxError extends Error {
  override readonly name = 'InterpolateSyntaxError';
  constructor(
    readonly format: string,
    readonly detail: string,
  ) {
    super(`invalid Interpolate ${JSON.stringify(format)}: ${detail}`);
  }
}

/** A value could not be rendered (a missing secret, a renderable that threw…). */
export class RenderError extends Error {
  override readonly name = 'RenderError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class SecretNotFoundError extends RenderError {
  constructor(readonly secretName: string) {
    super(`secret ${JSON.stringify(secretName)} is not found in any provider`);
  }
}

export class SecretProviderError extends Error {
  override readonly name = 'SecretProviderError';
  constructor(
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider}: ${message}`, options);
  }
}
