// A submitter who holds a copy of someone's image must not learn from their own upload whether
// the archive holds it elsewhere. With one UID key for the whole archive, the copy uploaded into
// the submitter's own new collection came back DUPLICATE, "the archive already holds this SOP
// instance" — for an image in a controlled collection, or one not yet released: membership of
// that patient in that study, told to anyone with a submitter's role. Now each collection's UIDs
// are remapped under a key of its own (src/ingest/uidKey.ts), and duplicates are found within a
// collection, where its submitter already sees everything.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { UidScope } from '../../src/entities/Collection.js';
import { loadArchiveSecret } from '../../src/ingest/secret.js';
import { uidKeyOf } from '../../src/ingest/uidKey.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';

describe('an upload of an image another collection holds', () => {
  let app: TestApp;
  let owner: string;
  let prober: string;
  const image = makeCt({ patientId: 'MEMBER-1', studyUid: uid(), seriesUid: uid(), sopUid: uid() });
  let held: { collection: string; imageUid: string };

  before(async () => {
    app = await startTestApp();
    owner = await submitter(app, 'data-owner');
    prober = await submitter(app, 'prober');
    const sub = await createSubmission(app, owner, { title: 'Controlled cohort', accessibility: 'CONTROLLED' });
    assert.equal((await upload(app, owner, sub.uploadUrl, image, 'a.dcm')).status, 201);
    assert.equal((await processToEnd(app, owner, sub.id)).ingested, 1);
    const s = await fetchSubmission(app, owner, sub.id);
    held = { collection: s.collection.accession, imageUid: s.files[0].imageUid };
  });
  after(async () => app?.stop());

  it('is archived in the prober\'s own collection under UIDs of its own, telling nothing of the other', async () => {
    const sub = await createSubmission(app, prober, { title: 'Probe' });
    assert.equal((await upload(app, prober, sub.uploadUrl, image, 'copy.dcm')).status, 201);
    const result = await processToEnd(app, prober, sub.id);
    assert.deepEqual({ ingested: result.ingested, duplicates: result.duplicates, quarantined: result.quarantined }, { ingested: 1, duplicates: 0, quarantined: 0 });
    const s = await fetchSubmission(app, prober, sub.id);
    assert.notEqual(s.collection.accession, held.collection);
    assert.equal(s.files[0].state, 'INDEXED');
    assert.equal(s.files[0].quarantineMessage, null);
    assert.notEqual(s.files[0].imageUid, held.imageUid, 'another collection, another UID');
  });

  it('is still a duplicate within its own collection', async () => {
    const sub = await createSubmission(app, owner, { title: 'Again', collection: held.collection });
    assert.equal((await upload(app, owner, sub.uploadUrl, image, 'again.dcm')).status, 201);
    const result = await processToEnd(app, owner, sub.id);
    assert.deepEqual({ ingested: result.ingested, duplicates: result.duplicates }, { ingested: 0, duplicates: 1 });
    assert.equal((await fetchSubmission(app, owner, sub.id)).files[0].imageUid, held.imageUid);
  });

  it('keeps the archive\'s key for a collection that held images under it before keys were per collection', async () => {
    const knex = (app.orm.em as EntityManager).getKnex();
    const { id } = await knex('collection').where('accession', held.collection).first('id');
    const secret = loadArchiveSecret(app.config);
    const own = await uidKeyOf(app.orm.em.fork() as EntityManager, Number(id), secret);
    assert.notEqual(own, secret);
    await knex('collection').where('id', id).update({ uid_scope: UidScope.ARCHIVE });
    try {
      assert.equal(await uidKeyOf(app.orm.em.fork() as EntityManager, Number(id), secret), secret);
    } finally {
      await knex('collection').where('id', id).update({ uid_scope: UidScope.COLLECTION });
    }
  });
});
