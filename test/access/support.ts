import type { EntityManager } from '@mikro-orm/knex';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LinkSigner, type LinkClaims } from '../../src/access/links.js';
import { frame } from '../../src/dicom/index.js';
import { AccessRequestState } from '../../src/entities/index.js';
import type { TestApp } from '../support/app.js';
import { makeCollection } from '../support/kit.js';
import type { Accessibility, ReleaseState } from '../../src/domain.js';

const SAMPLE = path.resolve(process.cwd(), '../shared/deid/dicom/pydicom__CT_small.dcm');

/**
 * A real DICOM file (pydicom's CT_small) whose last pixel bytes are replaced by random ones, so
 * every file is distinct and carries a 64-byte slice of pixel data that appears nowhere else.
 * Only Pixel Data is touched: CT_small has elements after it, and a file whose structure is
 * broken is refused by every reader (src/dicom), thumbnails included.
 */
export function distinctDicom(): { bytes: Buffer; marker: Buffer } {
  const bytes = Buffer.from(fs.readFileSync(SAMPLE));
  const pixels = frame(bytes).pixelElement!.value;
  const end = pixels.byteOffset - bytes.byteOffset + pixels.length;
  const marker = crypto.randomBytes(64);
  const tail = crypto.randomBytes(1024);
  marker.copy(tail, 512);
  tail.copy(bytes, end - tail.length);
  return { bytes, marker };
}

export interface StoredCollection {
  accession: string;
  id: number;
  /** Every image's marker (64 bytes of its pixel data), by SOPInstanceUID. */
  markers: Map<string, Buffer>;
  bytes: Map<string, Buffer>;
  studies: string[];
  series: string[];
}

/** A collection made with the test kit whose images have real stored files behind their sha256. */
export async function collectionWithFiles(
  app: TestApp,
  props: { accessibility: Accessibility; releaseState: ReleaseState; submitter?: string; title?: string },
  shape = { individuals: 1, studies: 1, series: 2, images: 2 },
): Promise<StoredCollection> {
  const em = app.orm.em.fork() as EntityManager;
  const c = await makeCollection(em, { submitter: 'seed-owner', ...props }, shape);
  const knex = em.getKnex();
  // The app's own store, local or S3 (test/storage/s3.test.ts runs the hub on S3).
  const store = app.door.ingest!.store;
  const images: any[] = await knex('image as im').join('series as s', 's.id', 'im.series_id').where('s.collection_id', c.id).select('im.id', 'im.uid');
  const markers = new Map<string, Buffer>();
  const bytes = new Map<string, Buffer>();
  for (const im of images) {
    const dicom = distinctDicom();
    const sha = await store.put(dicom.bytes);
    await knex('image').where('id', im.id).update({ sha256: sha, size: dicom.bytes.length });
    markers.set(im.uid, dicom.marker);
    bytes.set(im.uid, dicom.bytes);
  }
  const studies = (await knex('study').where('collection_id', c.id).select('accession')).map((r: any) => r.accession);
  const series = (await knex('series').where('collection_id', c.id).select('uid')).map((r: any) => r.uid);
  return { accession: c.accession, id: c.id, markers, bytes, studies, series };
}

/** An access request row written directly (the matrix needs approvals without going through review). */
export async function insertRequest(app: TestApp, collectionId: number, requester: string, state: AccessRequestState, expiresAt: Date | null = null): Promise<number> {
  const em = app.orm.em.fork() as EntityManager;
  const now = em.getPlatform().processDateProperty(new Date());
  const [id] = await em.getKnex()('access_request').insert({
    collection_id: collectionId, requester, purpose: 'test', scope_of_use: 'test', institution: 'Test University',
    pledge_not_to_reidentify: true, state, created_at: now, updated_at: now,
    expires_at: expiresAt ? em.getPlatform().processDateProperty(expiresAt) : null,
  });
  return Number(id);
}

/** A link signed with the app's own secret, for claims no mutation would have granted. */
export function signLink(app: TestApp, claims: Partial<LinkClaims> & { sub: string; id: string }): string {
  const signer = LinkSigner.open(app.config.keysDir);
  const token = signer.sign({ kind: 'collection', format: 'DICOM_ZIP', exp: Math.floor(Date.now() / 1000) + 600, ...claims });
  return `${app.url}/files/${token}/archive.zip`;
}

export async function fetchBytes(url: string, token?: string | null, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url, { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

export const REQUEST_INPUT = {
  purpose: 'Radiogenomic analysis of tumour heterogeneity',
  scopeOfUse: 'Two analysts at our lab, on an encrypted server, for 12 months',
  institution: 'Example University',
  pledgeNotToReidentify: true,
};
