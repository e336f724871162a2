import type { EntityManager } from '@mikro-orm/knex';
import crypto from 'node:crypto';
import { Image, Series, Study } from '../../src/entities/index.js';
import { LocalBlobStore } from '../../src/storage/BlobStore.js';
import { distinctDicom } from '../access/support.js';
import type { TestApp } from '../support/app.js';
import { testUid } from '../support/kit.js';

/** Adds a series with `images` stored files to the collection's first study (what a later submission would bring). */
export async function addSeries(app: TestApp, collectionId: number, images: number): Promise<{ uid: string; bytes: Map<string, Buffer> }> {
  const em = app.orm.em.fork() as EntityManager;
  const study = await em.findOneOrFail(Study, { collection: collectionId }, { orderBy: { id: 'asc' } });
  const series = em.create(Series, {
    uid: testUid(), study, individual: study.individual, collection: study.collection, modality: 'CT', anatomicalSite: 'CHEST', imageCount: images,
    // A series a curator has passed (release means reviewed, issue 22): what a new version takes in.
    published: true,
  });
  const store = LocalBlobStore.fromConfig(app.config);
  const bytes = new Map<string, Buffer>();
  for (let i = 0; i < images; i++) {
    const dicom = distinctDicom().bytes;
    const uid = testUid();
    em.create(Image, { uid, series, transferSyntaxUid: '1.2.840.10008.1.2.1', sha256: await store.put(dicom), size: dicom.length, frames: 1 });
    bytes.set(uid, dicom);
  }
  await em.flush();
  return { uid: series.uid, bytes };
}

export const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** The manifest checksum as the issue defines it, derived here independently of src/releases. */
export function expectedManifest(files: { path: string; key: string[]; sha256: string; size: number }[], withdrawn: { uid: string; reason: string }[] = []): string {
  const cmp = (a: string[], b: string[]) => { for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1; return 0; };
  const lines = [...files].sort((a, b) => cmp(a.key, b.key)).map((f) => `${f.sha256}  ${f.size}  ${f.path}\n`);
  const tail = [...withdrawn].sort((a, b) => (a.uid < b.uid ? -1 : 1)).map((t) => `withdrawn  ${t.uid}  ${t.reason}\n`);
  return sha256(lines.join('') + tail.join(''));
}

/** Every image of a collection with where it sits, straight from the catalogue. */
export async function catalogueFiles(app: TestApp, collectionId: number) {
  const knex = (app.orm.em.fork() as EntityManager).getKnex();
  const rows = await knex('image as im').join('series as s', 's.id', 'im.series_id').join('study as st', 'st.id', 's.study_id')
    .join('individual as i', 'i.id', 's.individual_id').join('collection as c', 'c.id', 's.collection_id').where('c.id', collectionId)
    .select('im.uid', 'im.sha256', 'im.size', 's.uid as series', 'st.accession as study', 'i.accession as individual', 'c.accession as collection');
  return rows.map((r: any) => ({
    uid: r.uid, sha256: r.sha256, size: Number(r.size),
    key: [r.individual, r.study, r.series, r.uid], path: `${r.collection}/${r.individual}/${r.study}/${r.series}/${r.uid}.dcm`,
  }));
}
