// A derived product: something the archive computes from each de-identified file (a thumbnail,
// the tag census, the retrieval model's input, DICOM JSON metadata …). Each product is one file
// with two halves, registered in products/index.ts; adding one is adding a file and a line there.
//
// The worker half runs in a worker thread where the file was just de-identified (first pass) or
// read back from the archive (resume): the same function either way, so the resume path makes
// the same products the first pass does. Its value is structured-cloned to the main thread.
// The main-thread half takes a whole batch's values into the archive: columns of the file's and
// the image's rows (written by the derive stage in one statement each), the run's accumulators,
// a model call for the batch.
import type { DeidOptions } from '../../deid/index.js';
import type { DicomDataset } from '../../dicom/index.js';
import type { SubmissionFile } from '../../entities/SubmissionFile.js';
import type { Image8 } from '../../imaging/index.js';
import type { HashCatalog } from '../../similarity/HashCatalog.js';
import type { BlobStore, LocalBlobStore } from '../../storage/BlobStore.js';
import type { WorkerSettings } from '../cpuTasks.js';
import type { FileWork, RunContext } from '../stage.js';

/** The de-identified file as the worker half sees it. */
export interface DeriveSource {
  /** The de-identified Part 10 bytes, as archived. */
  output: Uint8Array;
  /** Its header (tag-keyed, without Pixel Data) and Pixel Data value, parsed once for every product. */
  header: { dict: DicomDataset; transferSyntaxUid: string; pixelValue: Uint8Array | null; pixelVr: string; encapsulated: boolean };
  options: DeidOptions;
  /** What the pipeline that sent the task was started with (cpuTasks.ts WorkerSettings). */
  settings: WorkerSettings;
  /** The middle frame for display, decoded at most once per file and shared by the products that need pixels. */
  display(): Promise<Image8>;
  /** The archive's thumbnail cache (local derived data), opened in the worker; null in an archive that keeps none (then no product that writes it is wanted). */
  thumbnails: LocalBlobStore | null;
  /**
   * First pass only (absent on resume): the file as received, before de-identification, and the
   * hold de-identification decided. What identifies the patient is read from these inside the
   * worker and never leaves it.
   */
  received?: { bytes: Uint8Array; heldForPixelReview: string | null };
  /**
   * First pass only: archive these bytes instead of the de-identified output (the burned-in
   * text product's redacted pixels). The products after it in the registry see the new file;
   * the stored hash is taken after the swap.
   */
  replaceOutput?(output: Uint8Array): void;
}

/** What the main-thread half may use. */
export interface ProductEnv {
  run: RunContext;
  catalog: HashCatalog | null;
  /** The archive's blob store (de-identified files). */
  store: BlobStore;
}

/** Which products a run makes. */
export interface ProductSettings {
  thumbnails: boolean;
  hashCodes: boolean;
}

export interface DerivedProduct<V = unknown> {
  readonly name: string;
  /** Whether this archive makes the product at all. */
  wanted(settings: ProductSettings): boolean;
  /** Worker half. A throw reports the product missing for that file (logged by class), never fails the file. */
  derive(source: DeriveSource): Promise<V> | V;
  /** Main-thread half, once per batch, for the files whose worker half succeeded. */
  accept(items: readonly { work: FileWork; value: V }[], env: ProductEnv): Promise<void> | void;
  /** For a file stored by an earlier, interrupted run: whether it still lacks this product. */
  missing(file: SubmissionFile, image: { hashCode?: string | null; metadataSha256?: string | null } | null): boolean;
  /** Once the run's batches are done (persist what was accumulated); may say what it did, in counts, for the run's log. */
  finish?(env: ProductEnv): Promise<void | Record<string, number>>;
  /**
   * Ingest as jobs: a job's RunContext dies with it, and `finish` runs in another job (maybe
   * another process). What one batch job accumulated, as JSON, handed to the finish job through
   * the queue; undefined when there is nothing to hand on.
   */
  partial?(env: ProductEnv): unknown;
  /** The finish job's side: takes one batch job's `partial` into this run's accumulator before `finish`. */
  absorb?(partial: unknown, env: ProductEnv): void;
}

/** A product's worker half's result, as it crosses to the main thread. */
export type ProductResult = { value: unknown } | { error: string };
