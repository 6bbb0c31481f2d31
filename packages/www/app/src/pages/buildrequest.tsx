// One build request: waiting, or the builds started for it (more than one when retried).
// The master's own links (a trigger step's URLs) point here before the build exists.
import { list, one } from '../api';
import { Loading, Result } from '../components/common';
import { when } from '../format';
import { useLiveRead } from '../hooks';
import { Link } from '../router';

export function BuildRequest({ buildrequestid }: { buildrequestid: number }) {
  const state = useLiveRead(
    async () => ({
      request: await one(`/buildrequests/${buildrequestid}`),
      builds: (await list(`/buildrequests/${buildrequestid}/builds`)).items,
    }),
    [buildrequestid],
    [`buildrequests.${buildrequestid}`, 'builds.*.new'],
  );
  return (
    <main>
      <h1>Build request {buildrequestid}</h1>
      <Loading state={state}>
        {({ request, builds }) =>
          request === null ? (
            <p class="error">There is no build request {buildrequestid}.</p>
          ) : (
            <>
              <p>
                submitted {when(request.submitted_at as number)}
                {request.complete
                  ? ', complete'
                  : builds.length === 0
                    ? ', waiting for a worker'
                    : ', building'}
              </p>
              <ul>
                {builds.map((b) => (
                  <li key={String(b.buildid)}>
                    <Link to={`/builders/${b.builderid}/builds/${b.number}`}>build #{String(b.number)}</Link>{' '}
                    <Result results={b.results} complete={b.complete} />
                  </li>
                ))}
              </ul>
            </>
          )
        }
      </Loading>
    </main>
  );
}
