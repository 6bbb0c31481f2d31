// Run by recovery.test.ts: a master that claims work, starts a build with a step writing a
// log, reports "ready" and then waits to be killed with SIGKILL.
import { EventBus } from '../src/bus/bus.js';
import { DataLayer, registerAndRecover } from '../src/data/index.js';
import { openDatabase } from '../src/db/connection.js';
import { SUCCESS } from '../src/results.js';

const [url, builderName] = process.argv.slice(2);
const db = openDatabase({ url: url! });
const data = new DataLayer(db, new EventBus());
const { masterid } = await registerAndRecover(data, 'crashy');
const builderid = await data.builders.findOrCreate(builderName!);
const pending = await data.buildrequests.pendingForBuilder(builderid, 10);
const [done, running, waiting] = pending;

// One build that finishes normally before the crash: it must stay exactly as it was.
await data.buildrequests.claim([done!.id], masterid);
const b1 = await data.builds.add({ builderid, buildrequestid: done!.id, workerid: null, masterid });
await data.builds.finish(b1.buildid, SUCCESS, 'build successful');
await data.buildrequests.complete([done!.id], SUCCESS, masterid);

// One build in the middle of a step.
await data.buildrequests.claim([running!.id, waiting!.id], masterid);
const b2 = await data.builds.add({ builderid, buildrequestid: running!.id, workerid: null, masterid });
const s0 = await data.steps.add(b2.buildid, 'checkout');
await data.steps.start(s0.stepid);
await data.steps.finish(s0.stepid, SUCCESS);
const s1 = await data.steps.add(b2.buildid, 'compile');
await data.steps.start(s1.stepid);
const logid = await data.logs.add(s1.stepid, 'stdio', 's');
let text = '';
for (let i = 0; i < 2500; i++) text += `ocompiling unit ${i}\n`;
await data.logs.append(logid, text);
await data.builds.setMetric(b2.buildid, 'warnings', 3);

process.stdout.write(JSON.stringify({ masterid, builderid, b1: b1.buildid, b2: b2.buildid, s0, s1, logid }));
process.stdout.write('\n');
setInterval(() => {}, 1000);
