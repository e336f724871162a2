// The archive secret keys every UID remapping, date offset and patient HMAC: a process holding
// any other (an emptied key file, another keys directory) would give returning patients new
// individuals and their files new UIDs, silently — and an empty one keys the patient HMAC with
// nothing at all. Such a process is refused before it ingests a file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveSecretError, loadArchiveSecret } from '../../src/ingest/secret.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('the archive secret', () => {
  const dirs: string[] = [];
  const keysDir = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-keys-')); dirs.push(d); return d; };
  after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('is made once, whole, and read back the same', () => {
    const dir = keysDir();
    const made = loadArchiveSecret({ keysDir: dir }, {});
    assert.match(made, /^[0-9a-f]{64}$/);
    assert.equal(loadArchiveSecret({ keysDir: dir }, {}), made);
    assert.deepEqual(fs.readdirSync(dir), ['archive-secret'], 'no temporary file is left beside it');
  });

  it('an emptied or cut-short key file is refused, never used as the secret', () => {
    for (const content of ['', '\n', 'a1b2c3']) {
      const dir = keysDir();
      fs.writeFileSync(path.join(dir, 'archive-secret'), content);
      assert.throws(() => loadArchiveSecret({ keysDir: dir }, {}), (e: unknown) => e instanceof ArchiveSecretError && /emptied or cut short/.test((e as Error).message));
    }
  });

  describe('a second process of the archive', () => {
    let first: TestApp;
    const saved = process.env.OBIA_ARCHIVE_SECRET;
    before(async () => { first = await startTestApp(); });
    after(async () => {
      if (saved === undefined) delete process.env.OBIA_ARCHIVE_SECRET; else process.env.OBIA_ARCHIVE_SECRET = saved;
      await first?.stop();
    });

    it('with the same secret starts; with another it is refused before it ingests anything', async () => {
      const same = await startTestApp({ db: first.db });
      await same.stop();
      process.env.OBIA_ARCHIVE_SECRET = 'another-secret-of-another-archive';
      await assert.rejects(startTestApp({ db: first.db }), (e: unknown) => e instanceof ArchiveSecretError && /not the one this archive was built with/.test((e as Error).message));
    });
  });
});
