import path from 'node:path';
import type { BlobStoreSpec, S3Location } from './store.js';

/**
 * Which blob store the archive uses, from the environment (README, "Storage"):
 * `OBIA_BLOB_STORE=local` (default) keeps blobs in `$OBIA_DATA_DIR/blobs` and `OBIA_BACKUP_DIR`;
 * `OBIA_BLOB_STORE=s3` in `OBIA_S3_BUCKET` (under `OBIA_S3_PREFIX`, default `blobs/`) with the
 * backup in `OBIA_S3_BACKUP_BUCKET` (and, optionally, at `OBIA_S3_BACKUP_ENDPOINT` with its own
 * `OBIA_S3_BACKUP_ACCESS_KEY_ID`/`OBIA_S3_BACKUP_SECRET_ACCESS_KEY`). Endpoint, region and keys
 * default to the AWS SDK's variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`); addressing is path-style unless `OBIA_S3_PATH_STYLE=0`.
 */
export function blobStoreFromEnv(env: NodeJS.ProcessEnv, dataDir: string, backupDir: string): BlobStoreSpec {
  const backend = env.OBIA_BLOB_STORE || 'local';
  if (backend === 'local') return { kind: 'local', primaryRoot: path.join(dataDir, 'blobs'), backupRoot: backupDir, durable: true };
  if (backend !== 's3') throw new Error(`OBIA_BLOB_STORE must be local or s3, not ${backend}`);
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`OBIA_BLOB_STORE=s3 needs ${name}`);
    return v;
  };
  const keys = (id?: string, secret?: string) => (id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret } } : {});
  const primary: S3Location = {
    endpoint: env.OBIA_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || null,
    region: env.OBIA_S3_REGION || env.AWS_REGION || 'us-east-1',
    bucket: need('OBIA_S3_BUCKET'),
    prefix: env.OBIA_S3_PREFIX ?? 'blobs/',
    forcePathStyle: env.OBIA_S3_PATH_STYLE !== '0',
    ...keys(env.OBIA_S3_ACCESS_KEY_ID || env.AWS_ACCESS_KEY_ID, env.OBIA_S3_SECRET_ACCESS_KEY || env.AWS_SECRET_ACCESS_KEY),
  };
  const backup: S3Location = {
    ...primary,
    endpoint: env.OBIA_S3_BACKUP_ENDPOINT || primary.endpoint,
    region: env.OBIA_S3_BACKUP_REGION || primary.region,
    bucket: need('OBIA_S3_BACKUP_BUCKET'),
    prefix: env.OBIA_S3_BACKUP_PREFIX ?? primary.prefix,
    ...keys(env.OBIA_S3_BACKUP_ACCESS_KEY_ID, env.OBIA_S3_BACKUP_SECRET_ACCESS_KEY),
  };
  const partMiB = Number(env.OBIA_S3_PART_MIB || 8);
  return { kind: 's3', primary, backup, partBytes: Math.round(partMiB * 1024 * 1024) };
}
