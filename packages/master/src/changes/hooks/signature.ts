// Constant-time checks of webhook signatures and tokens: the time a comparison takes must
// not tell an attacker how much of a guess was right.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HookForbiddenError, HookUnauthenticatedError } from './errors.js';

type HeaderValue = string | string[] | undefined;

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks `header` (`<prefix><hex HMAC-SHA256 of the body>`, e.g. `sha256=…`, or bare hex
 * with prefix '') against the body; throws HookUnauthenticatedError unless it matches.
 */
export function verifyHmacSha256(
  secret: string,
  body: Buffer,
  header: HeaderValue,
  headerName: string,
  prefix: string,
): void {
  const given = single(header);
  if (given === undefined || given === '') throw new HookUnauthenticatedError(`missing ${headerName}`);
  const hex = given.trim();
  if (!hex.startsWith(prefix) || !/^[0-9a-fA-F]{64}$/.test(hex.slice(prefix.length)))
    throw new HookUnauthenticatedError(`${headerName} is not ${prefix}<64 hex digits>`);
  const expected = createHmac('sha256', secret).update(body).digest();
  if (!timingSafeEqual(expected, Buffer.from(hex.slice(prefix.length), 'hex')))
    throw new HookUnauthenticatedError(`${headerName} does not match the body`);
}

/** Checks a shared token (GitLab's X-Gitlab-Token): missing is 401, wrong is 403. */
export function verifyToken(secret: string, header: HeaderValue, headerName: string): void {
  const given = single(header);
  if (given === undefined || given === '') throw new HookUnauthenticatedError(`missing ${headerName}`);
  // Digests have one length whatever the token's, so neither length nor content leaks.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  if (!timingSafeEqual(digest(secret), digest(given))) throw new HookForbiddenError(`wrong ${headerName}`);
}
