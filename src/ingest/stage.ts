// The stage interface: what every stage of the ingest pipeline, every derived product and every
// observer of the pipeline (QC) may rely on, and the only part of src/ingest that src/qc sees.
//
//   screen → identify → de-identify → store → catalogue → derive → index
//
// A stage takes a batch of files in the states it expects and leaves each one either in its
// next state or with an outcome (quarantine, duplicate) recorded on the batch. Its contract:
// idempotent (a re-run of a file continues from the state its row records), one database
// transaction or statement per batch (never per file), and no attribute values in anything it
// logs or shows.
import type { EntityManager } from '@mikro-orm/knex';
import type { DeidOptions } from '../deid/index.js';
import type { SubmissionFile } from '../entities/SubmissionFile.js';
import type { Logger } from '../log.js';
import type { DeidOutcome } from './cpuTasks.js';
import type { ProductResult } from './products/product.js';

/** What a whole run shares: the submission, its collection, its options and what it has learnt. */
export interface RunContext {
  submissionId: number;
  collectionId: number;
  /** The key the collection's UIDs are remapped under (uidKey.ts). */
  uidKey: string;
  disease: string;
  options: DeidOptions;
  /** patientKey → individual, so one run maps each patient once. */
  individuals: Map<string, { id: number; accession: string }>;
  log: Logger;
  /** A fresh EntityManager for a unit of work of its own. */
  em(): EntityManager;
  /** What products accumulate over the run (the census), by product name. */
  accumulated: Map<string, unknown>;
}

/** One file on its way through a batch. */
export interface FileWork {
  file: SubmissionFile;
  individual?: { id: number; accession: string };
  /** The worker's de-identification (and the worker halves of the derived products). */
  outcome?: DeidOutcome;
  /** The derived products' worker halves (from de-identification, or from the archived file on resume). */
  products?: Record<string, ProductResult>;
  /** The Image row stored for it. */
  image?: { id: number; seriesId: number; uid: string };
  /** Columns the products' main-thread halves set on the file's and the image's rows. */
  fileColumns?: Record<string, unknown>;
  imageColumns?: Record<string, unknown>;
  /** What the index stage publishes (the 64-bit hash code). */
  hashCode?: bigint | null;
}

/** A file leaves the pipeline here, for a reason a submitter may read (codes and tag names, never values). */
export type OutcomeKind = 'QUARANTINED' | 'DUPLICATE';
export interface FileOutcome {
  fileId: number;
  kind: OutcomeKind;
  reason: string;
  message: string;
}

/** Thrown inside a stage for a file that goes to quarantine. */
export class Quarantine extends Error {
  constructor(readonly reason: string, message: string) { super(message); this.name = 'Quarantine'; }
}

/**
 * Told of every quarantine and duplicate at the moment the pipeline decides it. `record` runs
 * inside the transaction that sets the files' states (so an event and its state land together,
 * in one multi-row insert per batch); `committed` runs after it (announce only what is durable).
 */
export interface IngestObserver {
  record(tx: EntityManager, run: { submissionId: number; collectionId: number }, outcomes: readonly FileOutcome[]): Promise<void>;
  committed(run: { submissionId: number; collectionId: number }, outcomes: readonly FileOutcome[]): void;
}

/** A batch as the stages see it. */
export interface Batch {
  run: RunContext;
  works: FileWork[];
  /** Decides a file's outcome; the batch writes them all at once. */
  fail(work: FileWork | number, outcome: Omit<FileOutcome, 'fileId'> | unknown): void;
  /** Whether the file is still going (no outcome, not in a final state). */
  live(work: FileWork): boolean;
}

/**
 * What QC's curation may ask of ingest (a repaired file reprocessed): the slice of `Ingest` that
 * src/qc sees, so QC depends on this interface and not on the pipeline's wiring.
 */
export interface IngestPort {
  /** Starts (or joins) a run and resolves once the submission reads PROCESSING; `run` is the run, whose failure the caller logs. */
  pipeline: { start(submissionId: number): Promise<{ run: Promise<unknown> }> };
  staging: { read(stagingPath: string, received: string): Promise<Buffer>; stageRepair(from: string, bytes: Uint8Array): Promise<string> };
}
