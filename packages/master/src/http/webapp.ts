// The web UI (@lathe/www) served beside the data API: its hashed assets with a long cache
// life, and index.html for every other page path, so each page has a plain URL that works
// when reloaded or shared. The page's <base href> is the path of `www.baseURL`, which
// makes every link and API call relative to it: behind a reverse proxy that maps
// https://ci.example.org/lathe/ to this port, the app lives under /lathe/.
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { appBuilt, appDir } from '@lathe/www';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

// Vite names assets `<name>-<hash>.<ext>`: nothing else is served from assets/, so a
// request can never name a path outside it.
const ASSET = /^[\w.-]+\.(js|css|map|svg|png|woff2)$/;

function escapeAttribute(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
}

export interface WebAppOptions {
  /** The URL people reach the master at; its path becomes the page's base. */
  readonly baseURL: string;
}

export async function registerWebApp(app: FastifyInstance, options: WebAppOptions): Promise<void> {
  if (!appBuilt()) {
    app.get('/', (_req, reply) =>
      reply
        .code(503)
        .type('text/plain')
        .send('The web UI is not built: run `npm run build` in the Lathe checkout.\n'),
    );
    return;
  }
  const base = new URL(options.baseURL).pathname;
  const index = (await readFile(join(appDir, 'index.html'), 'utf8')).replace(
    '<head>',
    `<head>\n    <base href="${escapeAttribute(base.endsWith('/') ? base : `${base}/`)}" />`,
  );

  app.get('/assets/:file', async (req, reply) => {
    const { file } = req.params as { file: string };
    if (!ASSET.test(file)) return reply.code(404).send({ error: 'no such asset' });
    let body: Buffer;
    try {
      body = await readFile(join(appDir, 'assets', file));
    } catch {
      return reply.code(404).send({ error: 'no such asset' });
    }
    return reply
      .type(TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(body);
  });

  const page = (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  app.get('/', page);
  app.get('/*', (req, reply) => {
    // Unknown API paths stay JSON 404s, not the app.
    if (req.url.startsWith('/api/'))
      return reply.code(404).send({ error: `no such path: ${req.url.split('?')[0]}` });
    return page(req, reply);
  });
}
