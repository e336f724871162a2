import type { MikroORM } from '@mikro-orm/core';
import type { Config } from '../config.js';
import { HashCatalog } from '../similarity/HashCatalog.js';
import { BlobStore } from '../storage/BlobStore.js';
import { IngestPipeline } from './IngestPipeline.js';
import { loadArchiveSecret } from './secret.js';
import { StagingArea } from './staging.js';
import { SubmissionService } from './SubmissionService.js';

export { IngestPipeline, type ProcessSummary } from './IngestPipeline.js';
export { SubmissionService } from './SubmissionService.js';
export { UploadError } from './staging.js';

/** The submission side of the archive, wired once per process and shared by every request. */
export interface Ingest {
  submissions: SubmissionService;
  pipeline: IngestPipeline;
  store: BlobStore;
  staging: StagingArea;
}

export function createIngest(orm: MikroORM, config: Config, log: (message: string) => void = () => {}, opts: { thumbnails?: boolean; catalog?: HashCatalog } = {}): Ingest {
  const secret = loadArchiveSecret(config);
  const staging = new StagingArea(config.stagingDir, config.ingest);
  const store = BlobStore.fromConfig(config);
  return {
    submissions: new SubmissionService(orm, staging, secret),
    // Offline ingests (the CLI) still store hash codes; the server's index is rebuilt from them.
    pipeline: new IngestPipeline(orm, staging, store, secret, log, opts.thumbnails ?? true ? BlobStore.thumbnailsOf(config) : null, opts.catalog ?? new HashCatalog()),
    store,
    staging,
  };
}
