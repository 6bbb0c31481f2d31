// Run by reporters-crash.test.ts: a master (no worker) whose mail reporter cannot reach its
// SMTP server; records the given number of failed builds of `app`, prints their numbers,
// then waits to be killed with reports pending.

import { FAILURE } from '../src/results.js';
import { startMaster } from './helpers.js';
import { recordBuild } from './report-history.js';

const [basedir, count] = process.argv.slice(2);
const master = await startMaster({ basedir: basedir!, name: 'report-crash', onError: () => {} });
const numbers: number[] = [];
for (let i = 0; i < Number(count); i++)
  numbers.push(
    (await recordBuild(master.data, master.masterid, { builder: 'app', author: `dev${i}`, results: FAILURE }))
      .number,
  );
process.stdout.write(`${JSON.stringify({ numbers })}\n`);
setInterval(() => {}, 1000);
