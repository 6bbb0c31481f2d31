// Waiting for a build request (what a Trigger step with waitForFinish does) cannot hang on
// an event it never gets: a request completed by another master on the same database
// announces nothing on this master's bus, and the waiter still sees it complete.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { registerAndRecover } from '../src/data/housekeeping.js';
import type { Master } from '../src/master.js';
import { waitForRequest } from '../src/process/control.js';
import { FAILURE } from '../src/results.js';
import { openData, seedRequests, tempDir } from './helpers.js';

describe('waiting for a build request', () => {
  const dir = tempDir('lathe-wait-request-');
  after(() => dir.cleanup());

  it('sees a completion that came without an event on its bus', async () => {
    const file = join(dir.path, 'shared.sqlite');
    const here = await openData(file);
    const other = await openData(file);
    try {
      const { brids } = await seedRequests(here.data, 'b1', 1);
      const id = brids[0]!;
      // Only the data and the bus of a master are used to wait.
      const waiting = waitForRequest({ data: here.data, bus: here.bus } as unknown as Master, id, 5_000, 100);
      const { masterid } = await registerAndRecover(other.data, 'the other master');
      await other.data.buildrequests.claim([id], masterid);
      await other.data.buildrequests.complete([id], FAILURE, masterid);
      const row = await waiting;
      assert.equal(row.results, FAILURE);
    } finally {
      await other.close();
      await here.close();
    }
  });
});
