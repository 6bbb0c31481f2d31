// Resolving the parts of nested paths that name a build by builder and number.
import type { Constraints, Lookup } from '../resource.js';

export async function buildidOf(
  lookup: Lookup,
  builderid: number,
  number: number,
): Promise<number | undefined> {
  const build = await lookup('builds', { builderid, number });
  return build?.buildid as number | undefined;
}

/** `{ buildid }` of `/builders/:builderid/builds/:build_number/…`, or undefined when there is no such build. */
export async function buildByNumber(
  params: Readonly<Record<string, number | string>>,
  lookup: Lookup,
): Promise<Constraints | undefined> {
  const buildid = await buildidOf(lookup, params.builderid as number, params.build_number as number);
  return buildid === undefined ? undefined : { buildid };
}
