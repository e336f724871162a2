// Shared by the ingest tests: GraphQL calls a submitter makes, HTTP uploads, and a preset of
// the test kit's DICOM builder for CT images with chosen identifiers.
import assert from 'node:assert/strict';
import { Role } from '../../src/auth/Principal.js';
import type { DicomDataset } from '../../src/dicom/index.js';
import { buildImage } from '../support/dicom.js';
import type { TestApp } from '../support/app.js';

export const SUBMISSION_FIELDS = `id title state uploadUrl collection { accession releaseState }
  progress { total counts { state count } }
  files(first: 500) { edges { node { id originalName size sha256 state quarantineReason quarantineMessage heldForPixelReview imageUid storedSha256 } } }`;

export async function submitter(app: TestApp, sub = 'submitter-1'): Promise<string> {
  return app.token(sub, Role.SUBMITTER);
}

export async function createSubmission(app: TestApp, token: string, input: Record<string, unknown> = {}): Promise<{ id: string; uploadUrl: string }> {
  const res = await app.gql(`mutation($input: CreateSubmissionInput!) { createSubmission(input: $input) { id uploadUrl } }`,
    { input: { title: 'Ingest test', disease: 'ovarian cancer', ...input } }, token);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.createSubmission;
}

export async function upload(app: TestApp, token: string | null, uploadUrl: string, bytes: Uint8Array, name = 'file.dcm', method = 'PUT'): Promise<{ status: number; body: any }> {
  const res = await fetch(`${app.url}${uploadUrl}?name=${encodeURIComponent(name)}`, {
    method, body: bytes, headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: await res.json() };
}

export async function fetchSubmission(app: TestApp, token: string, id: string): Promise<any> {
  const res = await app.gql(`query($id: ID!) { submission(id: $id) { ${SUBMISSION_FIELDS} } }`, { id }, token);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  const submission = res.data.submission;
  return submission && { ...submission, files: submission.files.edges.map((e: { node: unknown }) => e.node) };
}

export interface CtOptions {
  patientId: string;
  patientName?: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  size?: number;
  instanceNumber?: number;
  /** Extra attributes (dcmjs tag-keyed form), e.g. PHI markers. */
  extra?: DicomDataset;
  extraMeta?: DicomDataset;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A CT image, Explicit VR Little Endian, 16-bit signed, `size`×`size` pixels with a gradient. */
export function makeCt(o: CtOptions): Buffer {
  const size = o.size ?? 64;
  const pixels = new Int16Array(size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = ((i % size) * 7 + Math.floor(i / size) * 3) % 2000 - 1000;
  // Two pixels carry a hash of the SOP Instance UID: distinct instances never share pixel data,
  // which QC would rightly set aside as duplicates under another UID.
  const h = fnv1a(o.sopUid);
  pixels[0] = (h & 0xffff) - 0x8000;
  pixels[1] = (h >>> 16) - 0x8000;
  return buildImage({
    patientId: o.patientId, patientName: o.patientName ?? 'Test^Patient', study: o.studyUid, series: o.seriesUid, sop: o.sopUid,
    instanceNumber: o.instanceNumber ?? 1, rows: size, columns: size, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1,
    window: { center: 40, width: 400 }, rescale: { slope: 1, intercept: 0 }, pixels: new Uint8Array(pixels.buffer),
    extra: {
      '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
      '00080020': { vr: 'DA', Value: ['20200115'] },
      '00100040': { vr: 'CS', Value: ['F'] },
      '00101010': { vr: 'AS', Value: ['052Y'] },
      '00180015': { vr: 'CS', Value: ['CHEST'] },
      '00200011': { vr: 'IS', Value: [1] },
      ...o.extra,
    },
    extraMeta: { '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.9.7777'] }, ...o.extraMeta },
  });
}

let n = 0;
/** A UID unique to this process and call. */
export function uid(): string {
  return `1.2.826.0.1.3680043.9.${process.pid}.${Date.now() % 100000}.${++n}`;
}
