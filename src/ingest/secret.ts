import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { ArchiveKeyCheck } from '../entities/ArchiveKeyCheck.js';

/** Shorter than this is not a secret this archive made (it makes 64 hex characters), nor one to key patient HMACs with. */
const MIN_LENGTH = 16;
const FINGERPRINT_LABEL = 'obia archive secret fingerprint v1';

/** The secret in hand cannot be the archive's: the process must not start (it would map patients anew). */
export class ArchiveSecretError extends Error {}

/**
 * The archive secret keys UID remapping, date offsets and the patient HMAC. It must never
 * change for an archive (a new one would map returning patients to new individuals), so it
 * is generated once into the keys directory, like the issuer key, unless the environment
 * supplies it (OBIA_ARCHIVE_SECRET, for deployments that keep secrets outside the disk).
 */
export function loadArchiveSecret(config: Pick<Config, 'keysDir'>, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.OBIA_ARCHIVE_SECRET;
  if (fromEnv) {
    if (fromEnv.length < MIN_LENGTH) throw new Error(`OBIA_ARCHIVE_SECRET must be at least ${MIN_LENGTH} characters`);
    return fromEnv;
  }
  const file = path.join(config.keysDir, 'archive-secret');
  const existing = readSecretFile(file);
  if (existing !== null) return existing;
  fs.mkdirSync(config.keysDir, { recursive: true, mode: 0o700 });
  const secret = crypto.randomBytes(32).toString('hex');
  // Written whole (and synced) under a name of its own, then linked into place: link() fails when
  // the name exists, so of two processes starting on a fresh directory one publishes a complete
  // secret and the other reads that one. An exclusive create of the name itself published it
  // empty until the write: a process reading in between, or a crash, left the archive keyed by "".
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try { fs.writeSync(fd, secret); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.linkSync(tmp, file);
    return secret;
  } catch (err: any) {
    if (err.code !== 'EEXIST') throw err;
    return readSecretFile(file)!;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The secret in the keys file; null when there is none. A file too short to be one is refused, not used. */
function readSecretFile(file: string): string | null {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err: any) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
  const secret = text.trim();
  if (secret.length < MIN_LENGTH) {
    throw new ArchiveSecretError(`${file} holds ${secret.length} characters, not the archive secret: it was emptied or cut short. `
      + 'Restore it from the keys backup; a new secret would map returning patients to new individuals and new UIDs.');
  }
  return secret;
}

/** What the database keeps of the secret: an HMAC of a fixed label under it, which tells secrets apart and gives none away. */
export function secretFingerprint(secret: string): string {
  return crypto.createHmac('sha256', secret).update(FINGERPRINT_LABEL).digest('hex');
}

/**
 * Checks, before a process ingests anything, that its secret is the one the archive was built
 * with: the first process of an archive records the secret's fingerprint; every later one (a hub
 * replica, a worker, the CLI, after a restore) must present the same. A hub given another keys
 * directory would otherwise give returning patients new individuals and every file new UIDs,
 * silently, beside the archive's own.
 */
export async function verifyArchiveSecret(orm: MikroORM, secret: string): Promise<void> {
  const fingerprint = secretFingerprint(secret);
  try {
    await orm.em.fork().insert(ArchiveKeyCheck, { name: 'archive-secret', fingerprint, recordedAt: new Date() });
  } catch (err) {
    // Recorded already (by an earlier start, or by a hub starting at the same moment): compared below.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
  const recorded = await orm.em.fork().findOneOrFail(ArchiveKeyCheck, { name: 'archive-secret' });
  if (recorded.fingerprint !== fingerprint) {
    throw new ArchiveSecretError('The archive secret in hand is not the one this archive was built with (its fingerprint, recorded '
      + `${recorded.recordedAt.toISOString()}, differs): check OBIA_KEYS_DIR / OBIA_ARCHIVE_SECRET. Refusing to start rather than map patients anew.`);
  }
}
