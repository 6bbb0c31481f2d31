// OpenID Connect login (the authorization-code flow with PKCE) as a relying party, with
// node:crypto and fetch only: discovery, the authorization URL, the code exchange, the ID
// token's signature and claims, and the userinfo claims. The HTTP routes are in http/oidc.ts.
import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from 'node:crypto';

export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** What the web UI calls the provider ("Sign in with <name>"); absent, the issuer's host. */
  readonly name?: string;
  readonly scope: string;
  /** The claim (ID token or userinfo) that names the user. */
  readonly usernameClaim: string;
  /** A claim listing role names (`groups`); names that are no configured role are ignored. */
  readonly rolesClaim?: string;
  /** Roles every user who logs in this way holds. */
  readonly defaultRoles: readonly string[];
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
  readonly userinfo_endpoint?: string;
}

/** A login refused by the provider or failing a check; the message is safe to show. */
export class OidcError extends Error {
  override readonly name = 'OidcError';
}

export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

const CLOCK_SKEW_SECONDS = 60;
const FETCH_TIMEOUT_MS = 10_000;

const b64url = (b: Buffer) => b.toString('base64url');

async function fetchJson(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (err) {
    throw new OidcError(`the OpenID provider is unreachable (${url}): ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {}
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new OidcError(`the OpenID provider answered ${res.status} without a JSON object (${url})`);
  const o = body as Record<string, unknown>;
  if (!res.ok)
    throw new OidcError(
      `the OpenID provider refused (${res.status}): ${String(o.error ?? '')} ${String(o.error_description ?? '')}`.trim(),
    );
  return o;
}

function jwtParts(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  input: Buffer;
  signature: Buffer;
} {
  const parts = token.split('.');
  if (parts.length !== 3) throw new OidcError('the ID token is not a signed JWT');
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      input: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    throw new OidcError('the ID token is not valid JSON');
  }
}

/** Signature algorithms accepted for ID tokens; `none` and HMAC never are. */
const ALGORITHMS: Record<string, { hash: string; kty: string; options?: Record<string, unknown> }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', options: { padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 } },
  ES256: { hash: 'sha256', kty: 'EC', options: { dsaEncoding: 'ieee-p1363' } },
};

export class OidcClient {
  #discovery: Discovery | undefined;
  #keys: JsonWebKey[] = [];

  constructor(
    readonly settings: OidcSettings,
    private readonly redirectUri: string,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async #discover(): Promise<Discovery> {
    if (this.#discovery) return this.#discovery;
    const issuer = this.settings.issuer.replace(/\/$/, '');
    const d = (await fetchJson(`${issuer}/.well-known/openid-configuration`)) as unknown as Discovery;
    if (d.issuer !== this.settings.issuer)
      throw new OidcError(
        `the provider calls itself ${JSON.stringify(d.issuer)}, not ${JSON.stringify(this.settings.issuer)}`,
      );
    for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const)
      if (typeof d[key] !== 'string') throw new OidcError(`the provider's discovery document has no ${key}`);
    this.#discovery = d;
    return d;
  }

  /** A new login: where to send the browser, and what to keep until it comes back. */
  async start(): Promise<{ url: string; pending: PendingLogin }> {
    const d = await this.#discover();
    const pending = {
      state: b64url(randomBytes(24)),
      nonce: b64url(randomBytes(24)),
      verifier: b64url(randomBytes(32)),
    };
    const url = new URL(d.authorization_endpoint);
    const params = {
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: this.redirectUri,
      scope: this.settings.scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: b64url(createHash('sha256').update(pending.verifier).digest()),
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return { url: url.href, pending };
  }

  /** Exchanges the code and checks what comes back; the verified claims (ID token, then userinfo). */
  async finish(code: string, pending: PendingLogin): Promise<Record<string, unknown>> {
    const d = await this.#discover();
    const { clientId, clientSecret } = this.settings;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      'base64',
    );
    const tokens = await fetchJson(d.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.redirectUri,
        code_verifier: pending.verifier,
      }),
    });
    if (typeof tokens.id_token !== 'string') throw new OidcError('the provider sent no ID token');
    const claims = await this.#verifyIdToken(tokens.id_token, pending.nonce);
    if (d.userinfo_endpoint && typeof tokens.access_token === 'string') {
      const info = await fetchJson(d.userinfo_endpoint, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      // Userinfo about someone else would be a substitution attack (OIDC Core 5.3.2).
      if (info.sub !== claims.sub) throw new OidcError('the userinfo answer is about another subject');
      return { ...info, ...claims };
    }
    return claims;
  }

  async #key(kid: unknown, kty: string): Promise<JsonWebKey> {
    const find = () =>
      this.#keys.find(
        (k) => k.kty === kty && (kid === undefined || k.kid === kid) && (k.use ?? 'sig') === 'sig',
      );
    let key = find();
    if (!key) {
      // Keys rotate: fetch them again before giving up.
      const jwks = await fetchJson((await this.#discover()).jwks_uri);
      this.#keys = Array.isArray(jwks.keys) ? (jwks.keys as JsonWebKey[]) : [];
      key = find();
    }
    if (!key) throw new OidcError('no key of the provider matches the ID token');
    return key;
  }

  async #verifyIdToken(token: string, nonce: string): Promise<Record<string, unknown>> {
    const { header, claims, input, signature } = jwtParts(token);
    const alg = ALGORITHMS[String(header.alg)];
    if (!alg) throw new OidcError(`the ID token's algorithm ${JSON.stringify(header.alg)} is not accepted`);
    const jwk = await this.#key(header.kid, alg.kty);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (!verify(alg.hash, input, { key, ...alg.options } as Parameters<typeof verify>[2], signature))
      throw new OidcError('the ID token’s signature does not verify');
    const now = this.now();
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== this.settings.issuer) throw new OidcError('the ID token is from another issuer');
    if (!aud.includes(this.settings.clientId)) throw new OidcError('the ID token is for another client');
    if (aud.length > 1 && claims.azp !== this.settings.clientId)
      throw new OidcError('the ID token was issued to another party');
    if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_SECONDS < now)
      throw new OidcError('the ID token has expired');
    if (typeof claims.iat === 'number' && claims.iat - CLOCK_SKEW_SECONDS > now)
      throw new OidcError('the ID token is from the future');
    if (claims.nonce !== nonce) throw new OidcError('the ID token’s nonce is not this login’s');
    if (typeof claims.sub !== 'string') throw new OidcError('the ID token names no subject');
    return claims;
  }
}

/** Who logged in and with which roles, from the verified claims; OidcError when no user name. */
export function oidcUser(
  settings: OidcSettings,
  claims: Readonly<Record<string, unknown>>,
  definedRoles: ReadonlySet<string>,
): { user: string; roles: string[] } {
  const name = claims[settings.usernameClaim];
  if (typeof name !== 'string' || name === '')
    throw new OidcError(`the provider sent no ${settings.usernameClaim} claim to name the user`);
  const claimed = settings.rolesClaim ? claims[settings.rolesClaim] : undefined;
  const fromClaim = Array.isArray(claimed) ? claimed.filter((r): r is string => typeof r === 'string') : [];
  const roles = [...new Set([...settings.defaultRoles, ...fromClaim])].filter((r) => definedRoles.has(r));
  return { user: name, roles };
}
