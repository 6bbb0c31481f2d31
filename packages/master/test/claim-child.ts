// Run by claims.test.ts as a separate process: a second master racing for the same
// requests through its own connection. Prints the ids it won as JSON.
import { EventBus } from '../src/bus/bus.js';
import { AlreadyClaimedError, DataLayer } from '../src/data/index.js';
import { openDatabase } from '../src/db/connection.js';

const [file, name, idsJson] = process.argv.slice(2);
const db = openDatabase({ url: `sqlite:${file}` });
const data = new DataLayer(db, new EventBus());
const { masterid } = await data.masters.register(name!);
const won: number[] = [];
for (const id of JSON.parse(idsJson!) as number[]) {
  try {
    await data.buildrequests.claim([id], masterid);
    won.push(id);
  } catch (err) {
    if (!(err instanceof AlreadyClaimedError)) throw err;
  }
}
await db.close();
process.stdout.write(JSON.stringify({ masterid, won }));
