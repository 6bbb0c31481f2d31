// Signed webhook requests built from the payloads in fixtures/webhooks, as each provider
// sends them: the event header, the body bytes, and the signature or token over them.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'fixtures', 'webhooks');

export type Provider = 'github' | 'gitlab' | 'gitea' | 'bitbucketcloud' | 'bitbucketserver' | 'generic';

/** The secret each provider's hook is configured with in the tests. */
export const TEST_SECRETS: Readonly<Record<Provider, string>> = {
  github: 'gh-s3cret-for-tests',
  gitlab: 'gl-t0ken-for-tests',
  gitea: 'gt-s3cret-for-tests',
  bitbucketcloud: 'bbc-s3cret-for-tests',
  bitbucketserver: 'bbs-s3cret-for-tests',
  generic: 'gen-s3cret-for-tests',
};

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

const hmac = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

/** The authentication header a provider sends for `body` when configured with `secret`. */
export function authHeader(provider: Provider, secret: string, body: Buffer): Record<string, string> {
  switch (provider) {
    case 'github':
      return { 'x-hub-signature-256': `sha256=${hmac(secret, body)}` };
    case 'gitea':
      return { 'x-gitea-signature': hmac(secret, body) };
    case 'bitbucketcloud':
    case 'bitbucketserver':
      return { 'x-hub-signature': `sha256=${hmac(secret, body)}` };
    case 'generic':
      return { 'x-lathe-signature-256': `sha256=${hmac(secret, body)}` };
    case 'gitlab':
      return { 'x-gitlab-token': secret };
  }
}

export interface HookPost {
  readonly provider: Provider;
  readonly event: Record<string, string>;
  readonly body: Buffer;
}

export async function postHook(
  port: number,
  post: HookPost,
  auth: Record<string, string> = authHeader(post.provider, TEST_SECRETS[post.provider], post.body),
): Promise<{ status: number; body: { changes?: number[]; error?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/change_hook/${post.provider}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...post.event, ...auth },
    body: new Uint8Array(post.body),
  });
  return { status: res.status, body: (await res.json()) as { changes?: number[]; error?: string } };
}

/** The config lines that serve every hook with the test secrets (GitHub's through secret()). */
export function changeHooksConfig(port: number): string {
  return `www: { port: ${port}, changeHooks: {
    github: { secret: secret('github-hook') },
    gitlab: { secret: ${JSON.stringify(TEST_SECRETS.gitlab)} },
    gitea: { secret: ${JSON.stringify(TEST_SECRETS.gitea)} },
    bitbucketcloud: { secret: ${JSON.stringify(TEST_SECRETS.bitbucketcloud)} },
    bitbucketserver: { secret: ${JSON.stringify(TEST_SECRETS.bitbucketserver)} },
    generic: { secret: ${JSON.stringify(TEST_SECRETS.generic)} },
  } },
  secretsProviders: [new StaticSecretProvider({ 'github-hook': ${JSON.stringify(TEST_SECRETS.github)} })],`;
}
