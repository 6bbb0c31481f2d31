// API tokens: `lathe_<43 base64url characters>` (256 random bits). Only the SHA-256 is
// stored; a plain hash suffices because the token is random, not a chosen password.
import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'lathe_';
const FORMAT = /^lathe_[A-Za-z0-9_-]{43}$/;

export function newApiToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a token; undefined for something that cannot be a token. */
export function apiTokenHash(token: string): string | undefined {
  if (!FORMAT.test(token)) return undefined;
  return createHash('sha256').update(token).digest('hex');
}
