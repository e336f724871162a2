import type { MikroORM } from '@mikro-orm/core';
import type { Config } from '../config.js';
import { logger } from '../log.js';
import { qcObserver } from '../qc/pipelineEvents.js';
import { HashCatalog } from '../similarity/HashCatalog.js';
import { LocalBlobStore, type BlobStore } from '../storage/BlobStore.js';
import { openBlobStore } from '../storage/open.js';
import { IngestPipeline } from './IngestPipeline.js';
import { loadArchiveSecret, verifyArchiveSecret } from './secret.js';
import { StagingArea } from './staging.js';
import { CLINICAL_RECORDS, DRAFT_COLLECTIONS, SubmissionService } from './SubmissionService.js';

export { IngestPipeline, type ProcessSummary } from './IngestPipeline.js';
export { SubmissionService } from './SubmissionService.js';
export { UploadError } from './staging.js';
export type { FileOutcome, IngestObserver } from './stage.js';

/** The submission side of the archive, wired once per process and shared by every request. */
export interface Ingest {
  submissions: SubmissionService;
  pipeline: IngestPipeline;
  store: BlobStore;
  staging: StagingArea;
  /** Whether the secret this process holds is the archive's (secret.ts): awaited before anything is ingested. */
  verifySecret(): Promise<void>;
}

/**
 * Wires the ingest side. The pipeline logs through src/log.ts (a child per submission and file);
 * `_log` is the old message callback, kept so callers written against it still compile.
 * QC's observer is registered here, so every pipeline (server, CLI, bench) records QC events.
 */
export function createIngest(orm: MikroORM, config: Config, _log: ((message: string) => void) | null = null, opts: { thumbnails?: boolean; catalog?: HashCatalog } = {}): Ingest {
  const secret = loadArchiveSecret(config);
  const staging = new StagingArea(config.stagingDir, config.ingest);
  const store = openBlobStore(config);
  // Offline ingests (the CLI) still store hash codes; the server's index is rebuilt from them.
  const pipeline = new IngestPipeline(orm, staging, store, secret, logger, opts.thumbnails ?? true ? LocalBlobStore.thumbnailsOf(config) : null, opts.catalog ?? new HashCatalog());
  pipeline.observe(qcObserver);
  const submissions = new SubmissionService(orm, staging, secret, {
    receiving: (id) => pipeline.receiving(id),
    received: (id, paths) => pipeline.received(id, paths),
  }, { maxDraftCollections: config.ingest.maxDraftCollections ?? DRAFT_COLLECTIONS, maxClinicalRecords: config.ingest.maxClinicalRecords ?? CLINICAL_RECORDS });
  return { submissions, pipeline, store, staging, verifySecret: () => verifyArchiveSecret(orm, secret) };
}
