// Links into the web UI: the config's buildbotURL followed by the hash routes Buildbot's UI
// serves, which Lathe's UI (packages/www) is to serve as well, so links stored today (step
// URLs) keep working once it exists.

/** The page of one build: `<base>#/builders/<builderid>/builds/<number>`. */
export function buildUrl(base: string, builderid: number, number: number): string {
  return `${base}#/builders/${builderid}/builds/${number}`;
}

/** The page of one build request (its builds once they start): `<base>#/buildrequests/<id>`. */
export function buildRequestUrl(base: string, buildrequestid: number): string {
  return `${base}#/buildrequests/${buildrequestid}`;
}
