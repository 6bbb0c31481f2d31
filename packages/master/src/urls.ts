// Links into the web UI: the config's buildbotURL followed by the hash routes Buildbot's UI
// serves. Lathe's UI (packages/www) takes them too and moves to its plain path for the same
// page, so links stored in step URLs work in both.

/** The page of one build: `<base>#/builders/<builderid>/builds/<number>`. */
export function buildUrl(base: string, builderid: number, number: number): string {
  return `${base}#/builders/${builderid}/builds/${number}`;
}

/** The page of one build request (its builds once they start): `<base>#/buildrequests/<id>`. */
export function buildRequestUrl(base: string, buildrequestid: number): string {
  return `${base}#/buildrequests/${buildrequestid}`;
}
