// Bulk DRS ids that were not strings were resolved, refused and named in the answer by String(id):
// an id that is an array nested 200,000 deep (a 400 KB body) overflowed the stack in that String()
// and answered 500. Ids are strings (DRS 1.4): anything else is 400 with the spec's error body.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Accessibility, ReleaseState } from '../../src/domain.js';
import { collectionWithFiles, type StoredCollection } from '../access/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { drs, startDrs, type DrsServer } from './support.js';

describe('DRS bulk ids are strings', () => {
  let app: TestApp;
  let server: DrsServer;
  let c: StoredCollection;

  before(async () => {
    app = await startTestApp();
    server = await startDrs(app);
    c = await collectionWithFiles(app, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'Bulk id types' });
  });
  after(async () => {
    await server?.close();
    await app?.stop();
  });

  it('an id nested 200,000 arrays deep, and ids of other types, are 400 on POST and OPTIONS /objects', async () => {
    const uid = [...c.bytes.keys()][0]!;
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    for (const method of ['POST', 'OPTIONS']) {
      for (const ids of [deep, `[{"a":1}, "${uid}"]`, `[null]`, `[1, true]`, `["${uid}", ["${uid}"]]`]) {
        const res = await drs(method, `${server.url}/objects`, { rawBody: `{"bulk_object_ids":${ids}}` });
        assert.equal(res.status, 400, `${method} ${ids.slice(0, 40)}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body, { msg: '"bulk_object_ids" must be an array of object ids (strings)', status_code: 400 });
      }
    }
    // Strings are resolved as before.
    const ok = await drs('POST', `${server.url}/objects`, { body: { bulk_object_ids: [uid, 'no-such-id'] } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.summary, { requested: 2, resolved: 1, unresolved: 1 });
  });
});
