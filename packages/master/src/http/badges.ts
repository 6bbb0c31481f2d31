// Status badges for READMEs: `/badges/<builder>.svg` is a small SVG saying how the
// builder's latest finished build ended; `?branch=main` (and `&codebase=` for a codebase
// other than the default '') narrows it to builds of that branch. Either costs one index
// seek: through the data API, or along the blamelist index for a branch.
import type { FastifyInstance } from 'fastify';
import { ApiNotFoundError, type DataApi } from '../api/data-api.js';
import { lastFinishedResultOnBranch } from '../data/build-links.js';

const RESULTS: readonly (readonly [string, string])[] = [
  ['passing', '#1f8a3b'],
  ['warnings', '#b26b00'],
  ['failing', '#c62828'],
  ['skipped', '#78909c'],
  ['exception', '#8e24aa'],
  ['retry', '#8e24aa'],
  ['cancelled', '#78909c'],
];
const UNKNOWN = ['unknown', '#9e9e9e'] as const;

function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** About the width of `text` in 11px Verdana, the badge font; exact enough to fit. */
function textWidth(text: string): number {
  return Math.ceil([...text].length * 6.6) + 10;
}

export function badgeSvg(label: string, status: string, colour: string): string {
  const lw = textWidth(label);
  const sw = textWidth(status);
  const l = escapeXml(label);
  const s = escapeXml(status);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + sw}" height="20" role="img" aria-label="${l}: ${s}">
<title>${l}: ${s}</title>
<rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${sw}" height="20" fill="${colour}"/>
<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="14">${l}</text><text x="${lw + sw / 2}" y="14">${s}</text>
</g>
</svg>
`;
}

async function lastFinishedResult(api: DataApi, builderid: number): Promise<number | null> {
  const page = await api.get(
    `/builders/${builderid}/builds`,
    new URLSearchParams({ complete_at__ne: 'null', limit: '1', field: 'results' }),
  );
  return (page.builds as { results: number }[])[0]?.results ?? null;
}

export function registerBadges(app: FastifyInstance, api: DataApi): void {
  app.get('/badges/:file', async (req, reply) => {
    const { file } = req.params as { file: string };
    if (!file.endsWith('.svg')) return reply.code(404).send({ error: 'badges are /badges/<builder>.svg' });
    const name = file.slice(0, -'.svg'.length);
    let builderid: number;
    try {
      builderid = (
        (await api.get(`/builders/${encodeURIComponent(name)}`)).builders as { builderid: number }[]
      )[0]!.builderid;
    } catch (err) {
      if (err instanceof ApiNotFoundError)
        return reply.code(404).send({ error: `no builder named ${JSON.stringify(name)}` });
      throw err;
    }
    const { branch, codebase } = req.query as { branch?: unknown; codebase?: unknown };
    if (
      (branch !== undefined && typeof branch !== 'string') ||
      (codebase !== undefined && typeof codebase !== 'string')
    )
      return reply.code(400).send({ error: 'branch and codebase are given once each' });
    const results =
      branch === undefined
        ? await lastFinishedResult(api, builderid)
        : await lastFinishedResultOnBranch(api.data.ctx.db, builderid, branch, codebase ?? '');
    const [status, colour] = results === null ? UNKNOWN : (RESULTS[results] ?? UNKNOWN);
    return reply
      .type('image/svg+xml; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(badgeSvg(name, status, colour));
  });
}
