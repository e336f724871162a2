// The DICOM JSON metadata product (PS3.18 Annex F): every ingested image gets its de-identified
// header in the DICOM JSON Model, and a file whose run stopped after STORED gets the very same
// document from the resume path (the same worker half).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Image, SubmissionFile } from '../../src/entities/index.js';
import { FileState } from '../../src/entities/SubmissionFile.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, fetchSubmission, makeCt, submitter, uid, upload } from './helpers.js';
import { processToEnd } from '../support/kit.js';

describe('DICOM JSON metadata of ingested images', () => {
  let app: TestApp;
  let token: string;
  before(async () => { app = await startTestApp(); token = await submitter(app); });
  after(async () => app?.stop());

  it('is made from the de-identified header, and made again alike on resume', async () => {
    const sub = await createSubmission(app, token, { title: 'DICOM JSON' });
    const sop = uid();
    assert.equal((await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'JSON-1', patientName: 'MARKJSON^Name', studyUid: uid(), seriesUid: uid(), sopUid: sop, size: 32 }))).status, 201);
    await processToEnd(app, token, sub.id);
    const s = await fetchSubmission(app, token, sub.id);
    const em = app.orm.em.fork() as EntityManager;
    const image = await em.findOneOrFail(Image, { uid: s.files[0].imageUid });
    assert.ok(image.metadataSha256, 'the image row names its metadata');
    const cache = LocalBlobStore.thumbnailsOf(app.config);
    const text = (await cache.get(image.metadataSha256!)).toString('utf8');
    const json = JSON.parse(text);
    assert.equal(json['00080018'].Value[0], image.uid, 'the de-identified SOP Instance UID');
    assert.notEqual(json['00080018'].Value[0], sop);
    assert.deepEqual(json['00280010'], { vr: 'US', Value: [32] });
    assert.deepEqual(json['7FE00010'], { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' });
    assert.equal(json['00100010'].vr, 'PN');
    assert.doesNotMatch(text, /MARKJSON|JSON-1/, 'no identifying value survives');

    // A run that stopped after STORED: the resume path runs the same worker half.
    await em.nativeUpdate(Image, { id: image.id }, { metadataSha256: null });
    await em.nativeUpdate(SubmissionFile, { id: s.files[0].id }, { state: FileState.STORED });
    await processToEnd(app, token, sub.id);
    const again = await app.orm.em.fork().findOneOrFail(Image, { id: image.id });
    assert.equal(again.metadataSha256, image.metadataSha256);
  });
});
