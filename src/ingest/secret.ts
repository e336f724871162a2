import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';

/**
 * The archive secret keys UID remapping, date offsets and the patient HMAC. It must never
 * change for an archive (a new one would map returning patients to new individuals), so it
 * is generated once into the keys directory, like the issuer key, unless the environment
 * supplies it (OBIA_ARCHIVE_SECRET, for deployments that keep secrets outside the disk).
 */
export function loadArchiveSecret(config: Pick<Config, 'keysDir'>, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.OBIA_ARCHIVE_SECRET;
  if (fromEnv) {
    if (fromEnv.length < 16) throw new Error('OBIA_ARCHIVE_SECRET must be at least 16 characters');
    return fromEnv;
  }
  const file = path.join(config.keysDir, 'archive-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(config.keysDir, { recursive: true, mode: 0o700 });
  const secret = crypto.randomBytes(32).toString('hex');
  // wx: two processes starting on a fresh directory must agree on one secret.
  try {
    fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err: any) {
    if (err.code !== 'EEXIST') throw err;
    return fs.readFileSync(file, 'utf8').trim();
  }
}
