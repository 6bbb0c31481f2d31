// Password hashes for `www.auth.users`: node:crypto's scrypt, written as
//   scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>
// (`lathe hash-password` prints one). Verification takes the parameters from the hash, so
// stronger ones can be used later without breaking old hashes.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const DEFAULT = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;
const FORMAT = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/;

interface Parsed {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** Why a configured hash is unusable, or undefined when it is fine. */
export function passwordHashProblem(hash: string): string | undefined {
  const parsed = parseHash(hash);
  if (!parsed)
    return 'must be a scrypt hash "scrypt$N$r$p$salt$key" (make one with `lathe hash-password`), never the password itself';
  if (parsed.N < 2 || (parsed.N & (parsed.N - 1)) !== 0) return 'scrypt N must be a power of two';
  if (parsed.key.length < 16 || parsed.salt.length < 8) return 'the salt or key is too short';
  return undefined;
}

function parseHash(hash: string): Parsed | undefined {
  const m = FORMAT.exec(hash);
  if (!m) return undefined;
  return {
    N: Number(m[1]),
    r: Number(m[2]),
    p: Number(m[3]),
    salt: Buffer.from(m[4]!, 'base64'),
    key: Buffer.from(m[5]!, 'base64'),
  };
}

function derive(
  password: string,
  salt: Buffer,
  length: number,
  N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    // maxmem: scrypt needs 128·N·r bytes; the default 32 MiB cap would refuse N = 2^15.
    scrypt(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = DEFAULT;
  const key = await derive(password, salt, KEY_LENGTH, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `password` matches `hash`; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  if (!parsed || passwordHashProblem(hash)) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, parsed.N, parsed.r, parsed.p);
  return timingSafeEqual(key, parsed.key);
}

/** Costs what a verification costs, for unknown users, so timing does not tell who exists. */
export async function verifyNothing(password: string): Promise<false> {
  await derive(password, Buffer.alloc(16), KEY_LENGTH, DEFAULT.N, DEFAULT.r, DEFAULT.p);
  return false;
}
