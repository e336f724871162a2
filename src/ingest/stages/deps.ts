import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import type { HashCatalog } from '../../similarity/HashCatalog.js';
import type { BlobStore } from '../../storage/BlobStore.js';
import type { CpuPool, WorkerStorage } from '../cpuTasks.js';
import type { OutcomeWriter } from '../outcomes.js';
import type { Prescreen } from '../prescreen.js';
import type { DerivedProduct } from '../products/index.js';
import type { StagingArea } from '../staging.js';
import type { Batch } from '../stage.js';

/** What the stages share, wired once per pipeline. */
export interface PipelineDeps {
  orm: MikroORM;
  cpu: CpuPool;
  /** Per-file check results started as files were staged (the screen stage takes them). */
  prescreen: Prescreen;
  staging: StagingArea;
  store: BlobStore;
  /** Where workers write (the archive and the thumbnail cache). */
  storage: WorkerStorage;
  catalog: HashCatalog | null;
  secret: string;
  outcomes: OutcomeWriter;
  /** The products this archive makes, in registry order. */
  products: readonly DerivedProduct[];
  /** Serialises the short database sections that create shared rows (individuals, studies, series). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  em(): EntityManager;
}

/** A stage of the per-batch part of the pipeline (screening runs over the whole submission first). */
export interface Stage {
  readonly name: string;
  run(batch: Batch, deps: PipelineDeps): Promise<void>;
}
