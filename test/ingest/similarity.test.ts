// An ingested image becomes findable by similarity: the pipeline stores its 64-bit code on
// Image and adds it to the live index, so an upload of the same picture finds it at distance 0.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { Image } from '../../src/entities/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, fetchSubmission, submitter, upload } from './helpers.js';

const SAMPLES = path.resolve(process.cwd(), '../shared/deid/dicom');
const FILES = ['pydicom__MR_small.dcm', 'pydicom__CT_small.dcm', 'pydicom__JPEG2000.dcm'];
const SIMILAR = `query($b: String!) { similarImages(image: { base64: $b }, k: 3) { distance image { uid hashCode } } }`;

describe('similarity search over ingested images', () => {
  let app: TestApp;
  let token: string;
  let files: any[];

  before(async () => {
    app = await startTestApp();
    token = await submitter(app);
    const submission = await createSubmission(app, token, { title: 'Similarity', bioProjectAccession: 'PRJCA000002' });
    for (const f of FILES) assert.equal((await upload(app, token, submission.uploadUrl, fs.readFileSync(path.join(SAMPLES, f)), f)).status, 201);
    await processToEnd(app, token, submission.id);
    files = (await fetchSubmission(app, token, submission.id)).files;
  });
  after(async () => app?.stop());

  it('stores a hash code for every indexed image and puts it in the live index under that image', async () => {
    const indexed = files.filter((f) => f.state === 'INDEXED');
    assert.equal(indexed.length, FILES.length, JSON.stringify(files.map((f) => [f.originalName, f.state])));
    const images = await (app.orm.em as EntityManager).fork().find(Image, { uid: { $in: indexed.map((f) => f.imageUid) } });
    for (const image of images) {
      assert.match(image.hashCode ?? '', /^[0-9a-f]{16}$/);
      // The three images are stored by one multi-row insert: each must be indexed under its own id and series.
      assert.equal(app.hashCatalog.index.get(image.id), BigInt(`0x${image.hashCode}`));
      assert.equal(app.hashCatalog.seriesIdOf(image.id), image.series.id);
    }
  });

  it('finds the stored (de-identified) copy of an uploaded original at distance 0, for its submitter only', async () => {
    const original = fs.readFileSync(path.join(SAMPLES, 'pydicom__MR_small.dcm')).toString('base64');
    const stored = files.find((f) => f.originalName === 'pydicom__MR_small.dcm');
    const { data, errors } = await app.gql(SIMILAR, { b: original }, token);
    assert.equal(errors, undefined);
    assert.equal(data.similarImages[0].distance, 0);
    assert.equal(data.similarImages[0].image.uid, stored.imageUid);
    const anonymous = await app.gql(SIMILAR, { b: original });
    assert.deepEqual(anonymous.data.similarImages, [], 'an unreleased submission is not searchable by the public');
  });
});
