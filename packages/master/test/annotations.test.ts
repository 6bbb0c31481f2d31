// Annotations in the data layer (real SQLite): up to 1 MiB of Markdown is stored as given
// and published; one byte more is refused with an error naming the sizes, and nothing is
// stored. The revision tests are compared on, from a build's properties and source stamps.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AnnotationStyleError,
  AnnotationTooLargeError,
  MAX_ANNOTATION_BYTES,
} from '../src/data/annotations.js';
import { testRevision } from '../src/process/test-revision.js';
import { openData, tempDir } from './helpers.js';

describe('annotations (real SQLite)', () => {
  const dir = tempDir('lathe-annotations-');
  after(() => dir.cleanup());

  it('stores up to 1 MiB of Markdown and refuses more, storing nothing', async () => {
    const { data, bus, close } = await openData(join(dir.path, 'a.sqlite'));
    const { masterid } = await data.masters.register('m');
    const builderid = await data.builders.findOrCreate('b');
    const bs = await data.buildsets.add({ sourcestampids: [], builderids: [builderid], reason: 'r' });
    const brid = bs.buildrequestids.get(builderid)!;
    await data.buildrequests.claim([brid], masterid);
    const { buildid } = await data.builds.add({ builderid, buildrequestid: brid, workerid: null, masterid });
    const { stepid } = await data.steps.add(buildid, 's');
    const published: unknown[] = [];
    bus.subscribe('annotation.new.#', (m) => {
      published.push(m.payload);
    });
    // Multi-byte characters count as their UTF-8 bytes.
    const full = 'é'.repeat(MAX_ANNOTATION_BYTES / 2);
    const id = await data.annotations.add({ buildid, stepid, markdown: full, title: 'full', style: 'info' });
    const base = { buildid, stepid, title: 'big', style: 'warning' as const };
    await assert.rejects(
      data.annotations.add({ ...base, markdown: `${full}x` }),
      (err: unknown) =>
        err instanceof AnnotationTooLargeError &&
        err.bytes === MAX_ANNOTATION_BYTES + 1 &&
        /"big" is 1048577 bytes of Markdown; the limit is 1048576 bytes \(1 MiB\)/.test(err.message),
    );
    await assert.rejects(
      data.annotations.add({ ...base, markdown: 'x', style: 'shout' as 'info' }),
      AnnotationStyleError,
    );
    const rows = await data.ctx.db.selectFrom('annotations').select(['id', 'markdown']).execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.markdown.length]),
      [[id, MAX_ANNOTATION_BYTES / 2]],
    );
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(published, [{ annotationid: id, buildid }]);
    await close();
  });
});

describe('the revision tests ran against', () => {
  const source = (codebase: string, revision: string | null, hasPatch = false) => ({
    codebase,
    revision,
    hasPatch,
  });

  it('is got_revision when set, else the source stamps’, and none for a patched build', () => {
    assert.equal(testRevision('abc', [source('', null)]), 'abc');
    assert.equal(testRevision(undefined, [source('', 'def')]), 'def');
    assert.equal(testRevision(undefined, [source('', null)]), null);
    assert.equal(testRevision('abc', [source('', 'abc', true)]), null, 'a try job is not the revision');
    assert.equal(testRevision({ lib: 'l1', app: 'a1' }, []), 'app:a1 lib:l1');
    assert.equal(testRevision(undefined, [source('lib', 'l1'), source('app', 'a1')]), 'app:a1 lib:l1');
    assert.equal(testRevision(undefined, [source('lib', 'l1'), source('app', null)]), null);
  });
});
