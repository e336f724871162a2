// Reliability (a client that walks away): a viewer or script that starts a DICOMweb retrieval of a
// study and drops the connection once its first bytes arrive must leave nothing open on the hub.
// Before, the multipart and zip loops waited for ever on a response stream Fastify had destroyed,
// each holding the file it was sending: one file descriptor per abandoned retrieval, so enough of
// them would leave the hub unable to open a file.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Role } from '../../src/auth/Principal.js';
import { release, type ReleasedStudy } from '../dicomweb/archive.js';
import { makeCt, uid } from '../ingest/helpers.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('how the HTTP layer ends a retrieval its client abandoned; the database only lists the files');

/** The hub's open files under its data folder (this process's file descriptors, resolved). */
function openArchiveFiles(app: TestApp): string[] {
  const roots = [app.config.dataDir, app.config.backupDir].filter((r): r is string => !!r);
  const files: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try { target = fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (roots.some((r) => target.startsWith(r)) && !/\.(sqlite|db)(-wal|-shm|-journal)?$/.test(target)) files.push(target);
  }
  return files;
}

/**
 * Waits until `ok()` holds, looking again each time the event loop has run other work for a
 * while; the bound only ends a run that would otherwise hang, it is a failure.
 */
async function until(ok: () => boolean, what: string, boundMs = 15_000): Promise<void> {
  const start = performance.now();
  while (!ok()) {
    if (performance.now() - start > boundMs) assert.fail(what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Asks for `path` with `accept`, reads the first bytes of the answer, stops reading and hangs up. */
async function abandon(app: TestApp, path: string, accept: string, token: string): Promise<number> {
  const req = http.get(`${app.url}/dicom-web${path}`, { headers: { accept, authorization: `Bearer ${token}` } });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  await once(res, 'data');
  res.pause();
  req.destroy();
  return res.statusCode!;
}

describe('a DICOMweb retrieval its client abandons', { timeout: 120_000 }, () => {
  let app: TestApp;
  let study: ReleasedStudy;
  // Open files are for signed-in users (their downloads are audited).
  let researcher: string;
  before(async () => {
    app = await startTestApp();
    const submitter = await app.token('ab-submitter', Role.SUBMITTER);
    const curator = await app.token('ab-curator', Role.CURATOR);
    researcher = await app.token('ab-researcher', Role.RESEARCHER);
    // 12 CT slices of 512×512×16 bits (≈ 6 MB): more than the socket and stream buffers hold, so the
    // hub is still sending when the client hangs up.
    const [studyUid, seriesUid] = [uid(), uid()];
    const files = Array.from({ length: 12 }, (_, i) => makeCt({ patientId: 'AB-1', studyUid, seriesUid, sopUid: uid(), instanceNumber: i + 1, size: 512 }));
    study = (await release(app, submitter, curator, 'OPEN', files)).studies[0]!;
  });
  after(async () => app?.stop());

  for (const [name, accept] of [['multipart', 'multipart/related; type="application/dicom"'], ['zip', 'application/zip']] as const) {
    it(`closes every file it opened for a ${name} study retrieval (5 clients hang up after the first bytes)`, async () => {
      const before = openArchiveFiles(app).length;
      for (let i = 0; i < 5; i++) assert.equal(await abandon(app, `/studies/${study.studyUid}`, accept, researcher), 200);
      await until(() => openArchiveFiles(app).length <= before, `the abandoned retrievals' files are closed (open: ${openArchiveFiles(app).join(', ')})`);
      // And the hub still serves the whole study to a client that stays.
      const res = await fetch(`${app.url}/dicom-web/studies/${study.studyUid}`, { headers: { accept, authorization: `Bearer ${researcher}` } });
      assert.equal(res.status, 200);
      assert.ok((await res.arrayBuffer()).byteLength > 12 * 512 * 512 * 2, 'every slice is sent');
    });
  }
});
