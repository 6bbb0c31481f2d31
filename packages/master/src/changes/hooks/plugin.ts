// The Fastify plugin serving POST /change_hook/<provider> (Buildbot's path). A request is
// authenticated over its raw bytes before its JSON is read; its changes are committed
// before the 2xx answer, so an acknowledged push survives a crash right after.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ChangeInput } from '../change-source.js';
import { bitbucketCloud } from './bitbucket-cloud.js';
import { bitbucketServer } from './bitbucket-server.js';
import type { HookProviderName } from './config.js';
import { isHookRefusal } from './errors.js';
import { generic } from './generic.js';
import { gitea } from './gitea.js';
import { github } from './github.js';
import { gitlab } from './gitlab.js';
import type { HookProvider, HookSettings } from './provider.js';

export const CHANGE_HOOK_PREFIX = '/change_hook';

const PROVIDERS: Readonly<Record<HookProviderName, HookProvider>> = {
  github,
  gitlab,
  gitea,
  bitbucketcloud: bitbucketCloud,
  bitbucketserver: bitbucketServer,
  generic,
};

/** GitHub's own limit for a webhook payload. */
const BODY_LIMIT = 25 * 1024 * 1024;

export interface ChangeHooksOptions {
  /** The configured hooks with their secrets resolved (see hookSecrets). */
  readonly hooks: ReadonlyMap<HookProviderName, HookSettings>;
  /** Stores a change; resolves once it is committed. */
  readonly addChange: (change: ChangeInput) => Promise<number>;
  readonly log: (line: string) => void;
}

export const changeHooksPlugin: FastifyPluginAsync<ChangeHooksOptions> = async (
  app: FastifyInstance,
  options,
) => {
  // Signatures cover the exact bytes sent, so every body stays raw until it is verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );

  app.post<{ Params: { provider: string } }>(`${CHANGE_HOOK_PREFIX}/:provider`, async (req, reply) => {
    const name = req.params.provider;
    const settings = options.hooks.get(name as HookProviderName);
    if (!settings)
      return reply.code(404).send({ error: `no change hook ${JSON.stringify(name)} is configured` });
    const provider = PROVIDERS[name as HookProviderName];
    const hookRequest = { headers: req.headers, body: (req.body as Buffer | undefined) ?? Buffer.alloc(0) };
    let changes: ChangeInput[];
    try {
      provider.authenticate(hookRequest, settings.secret);
      changes = provider.changes(hookRequest, settings);
    } catch (err) {
      if (!isHookRefusal(err)) throw err;
      options.log(`change hook ${name}: refused a request from ${req.ip}: ${err.message}`);
      return reply.code(err.status).send({ error: err.message });
    }
    const changeids: number[] = [];
    for (const change of changes) changeids.push(await options.addChange(change));
    if (changeids.length > 0) options.log(`change hook ${name}: stored changes ${changeids.join(', ')}`);
    return reply.code(200).send({ changes: changeids });
  });
};
