// Run by claims.test.ts as a separate process: another master racing for the same
// requests through its own connection. For each request it wins it starts a build on
// the shared builder (numbering races) and appends a line to the shared log (log line
// numbering races). Prints what it won and the build numbers it got as JSON. `p1` and `p3`
// pass the request as the distributor would (builds.add's lock-free numbering on PostgreSQL).
import { EventBus } from '../src/bus/bus.js';
import { AlreadyClaimedError, DataLayer } from '../src/data/index.js';
import { openDatabase } from '../src/db/connection.js';

const [url, name, idsJson, builderidText, logidText] = process.argv.slice(2);
const db = openDatabase({ url: url! });
const data = new DataLayer(db, new EventBus());
const { masterid } = await data.masters.register(name!);
const builderid = Number(builderidText);
const logid = Number(logidText);
const won: number[] = [];
const numbers: number[] = [];
for (const id of JSON.parse(idsJson!) as number[]) {
  try {
    await data.buildrequests.claim([id], masterid);
  } catch (err) {
    if (!(err instanceof AlreadyClaimedError)) throw err;
    continue;
  }
  won.push(id);
  // Half the processes say what they know of the request, as the distributor does: on
  // PostgreSQL that numbers the build without the builder's lock (retrying on a clash).
  const known = name === 'p1' || name === 'p3';
  const request = known
    ? {
        buildsetid: (
          await db.kysely
            .selectFrom('buildrequests')
            .select('buildsetid')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).buildsetid,
        sources: [],
      }
    : undefined;
  const build = await data.builds.add({
    builderid,
    buildrequestid: id,
    workerid: null,
    masterid,
    ...(request && { request }),
  });
  numbers.push(build.number);
  await data.logs.append(logid, `o${name} request ${id} build ${build.number}\n`);
}
await db.close();
process.stdout.write(JSON.stringify({ masterid, won, numbers }));
