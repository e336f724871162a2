import type { ApolloServerPlugin } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FileState } from '../entities/SubmissionFile.js';
import type { Ingest } from '../ingest/index.js';
import type { IngestJobResult, IngestJobs } from '../jobs/queue.js';
import type { HashCatalog } from '../similarity/HashCatalog.js';

const TERMINAL = [FileState.INDEXED, FileState.QUARANTINED, FileState.DUPLICATE];
const PENDING = [FileState.RECEIVED, FileState.PARSED, FileState.DEIDENTIFIED, FileState.STORED];
/** Operation names are chosen by clients: a bounded set of labels, so a hostile client cannot grow the registry. */
const MAX_OPERATION_NAMES = 200;

const JOB_KINDS: ReadonlySet<string> = new Set<IngestJobResult['kind']>(['plan', 'batch', 'finish']);

/**
 * What a completed ingest job adds to the metrics: its kind, and for a batch the files it took;
 * null for a return value no worker writes. It is read back from Redis, written by whichever
 * worker (or whatever else) reached the queue: an unknown kind would grow the label set without
 * bound, and a negative or non-numeric count makes prom-client throw inside the event listener,
 * which nothing catches (an uncaught exception: the hub drains and exits).
 */
export function completedJobCount(returnvalue: unknown): { kind: IngestJobResult['kind']; files: number } | null {
  const result = typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue;
  if (!result || typeof result !== 'object') return null;
  const { kind, files } = result as { kind?: unknown; files?: unknown };
  if (typeof kind !== 'string' || !JOB_KINDS.has(kind)) return null;
  const n = kind === 'batch' && typeof files === 'number' && Number.isSafeInteger(files) && files >= 0 ? files : 0;
  return { kind: kind as IngestJobResult['kind'], files: n };
}

/**
 * The process's Prometheus metrics (`/metrics`), in a registry of its own so several apps in
 * one process (tests) do not collide: HTTP requests by route and status, GraphQL operation
 * durations by operation name, ingest queue depth and files processed, and the hash index size.
 */
export class OpsMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'obia_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status.', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  readonly httpDuration = new Histogram({ name: 'obia_http_request_duration_seconds', help: 'HTTP request durations by route pattern and method.', labelNames: ['route', 'method'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly graphqlDuration = new Histogram({ name: 'obia_graphql_operation_duration_seconds', help: 'GraphQL operation durations by operation name and type (queries and mutations; subscriptions are long-lived and not timed).', labelNames: ['operation', 'type', 'outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly filesProcessed = new Counter({ name: 'obia_ingest_files_processed_total', help: 'Submitted files this process brought to a final state, by outcome (INDEXED, QUARANTINED, DUPLICATE).', labelNames: ['outcome'], registers: [this.registry] });
  private readonly operationNames = new Set<string>();
  private readonly seen = new Map<number, Map<string, number>>();
  private readonly busy = new Map<number, boolean>();

  constructor(private readonly orm: MikroORM, catalog: HashCatalog, private readonly ingest: Ingest | null) {
    collectDefaultMetrics({ register: this.registry, prefix: 'obia_' });
    new Gauge({ name: 'obia_hash_index_size', help: 'Hash codes in this replica\'s similarity index.', registers: [this.registry], collect() { this.set(catalog.size); } });
    const depth = (): Promise<{ state: string; n: number }[]> => this.queueDepth();
    new Gauge({
      name: 'obia_ingest_queue_depth', help: 'Files of submissions being processed that have not reached a final state yet, by state (archive-wide: read from the database).', labelNames: ['state'], registers: [this.registry],
      async collect() {
        const rows = await depth();
        for (const state of PENDING) this.set({ state }, rows.find((r) => r.state === state)?.n ?? 0);
      },
    });
    ingest?.pipeline.events.on('progress', (id: number) => this.count(id));
  }

  /** Request bodies held in memory now (src/http/bodyBudget.ts): at OBIA_MAX_BUFFERED_BODY_BYTES new ones are refused 503. */
  watchBodies(budget: { readonly held: number }): void {
    new Gauge({ name: 'obia_http_buffered_body_bytes', help: 'Bytes of request bodies (GraphQL, STOW-RS, query images) held in memory now, every request together.', registers: [this.registry], collect() { this.set(budget.held); } });
  }

  /**
   * Ingest as jobs: the queue's jobs by state (archive-wide, read from Redis at scrape time) and
   * the jobs and files every worker completed, heard through BullMQ's queue events (so each hub
   * reports the archive's throughput, whichever worker did the work).
   */
  watchJobs(jobs: IngestJobs): void {
    new Gauge({
      name: 'obia_ingest_jobs', help: 'Ingest jobs in the queue by state (waiting, active, delayed, waiting-children, prioritized, failed).', labelNames: ['state'], registers: [this.registry],
      async collect() {
        const counts = await jobs.counts().catch(() => null);
        if (counts) for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    const completed = new Counter({ name: 'obia_ingest_jobs_completed_total', help: 'Ingest jobs completed by any worker, by kind (plan, batch, finish).', labelNames: ['kind'], registers: [this.registry] });
    const files = new Counter({ name: 'obia_ingest_job_files_total', help: 'Files taken through the pipeline by completed batch jobs (a retried batch counts again).', registers: [this.registry] });
    // A completed job's return value is read back from Redis, written by whichever worker (or
    // whatever else) reached the queue: an unknown kind would grow the label set without bound,
    // and a negative or non-numeric count makes prom-client throw inside this listener, which
    // nothing catches (an uncaught exception: the hub drains and exits). Only what a worker writes is counted.
    jobs.events.on('completed', ({ returnvalue }) => {
      const counted = completedJobCount(returnvalue);
      if (!counted) return;
      completed.inc({ kind: counted.kind });
      if (counted.files > 0) files.inc(counted.files);
    });
  }

  /** Labels an HTTP request by its route pattern (never the raw URL: ids would grow the label set without bound). */
  observeHttp(route: string | undefined, method: string, status: number, seconds: number): void {
    const r = route ?? 'unmatched';
    this.httpRequests.inc({ route: r, method, status: String(status) });
    this.httpDuration.observe({ route: r, method }, seconds);
  }

  /** An Apollo Server plugin timing every query and mutation by its operation name. */
  apolloPlugin(): ApolloServerPlugin {
    const metrics = this;
    return {
      async requestDidStart() {
        const started = process.hrtime.bigint();
        return {
          async willSendResponse(rc) {
            const type = rc.operation?.operation ?? 'unknown';
            if (type === 'subscription') return;
            const failed = rc.response.body.kind === 'single' && (rc.response.body.singleResult.errors?.length ?? 0) > 0;
            metrics.graphqlDuration.observe({ operation: metrics.operationLabel(rc.operationName ?? null), type, outcome: failed ? 'error' : 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);
          },
        };
      },
    };
  }

  private operationLabel(name: string | null): string {
    if (!name) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES || !/^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name)) return 'other';
    this.operationNames.add(name);
    return name;
  }

  private async queueDepth(): Promise<{ state: string; n: number }[]> {
    // Only submissions being processed: a join through the (submission, state) index, not a scan of every file ever received.
    const knex = (this.orm.em as EntityManager).getKnex();
    const rows: { state: string; n: number | string }[] = await knex('submission_file as f').join('submission as s', 's.id', 'f.submission_id')
      .where('s.state', 'PROCESSING').whereIn('f.state', PENDING).groupBy('f.state').select('f.state as state').count({ n: '*' });
    return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
  }

  /** Counts files newly at a final state in a submission this process is running (one indexed query per progress event, coalesced). */
  private async count(submissionId: number): Promise<void> {
    if (this.busy.has(submissionId)) { this.busy.set(submissionId, true); return; }
    this.busy.set(submissionId, false);
    try {
      do {
        this.busy.set(submissionId, false);
        const knex = (this.orm.em as EntityManager).getKnex();
        const rows: { state: string; n: number | string }[] = await knex('submission_file').where('submission_id', submissionId).whereIn('state', TERMINAL).groupBy('state').select('state').count({ n: '*' });
        const before = this.seen.get(submissionId);
        const now = new Map(rows.map((r) => [r.state, Number(r.n)]));
        // The first sight of a submission is its baseline (a resumed run's earlier files were counted by whoever ran them).
        if (before) for (const [state, n] of now) if (n > (before.get(state) ?? 0)) this.filesProcessed.inc({ outcome: state }, n - (before.get(state) ?? 0));
        if (this.seen.size > 1000) this.seen.clear();
        this.seen.set(submissionId, now);
      } while (this.busy.get(submissionId));
    } catch {
      // A metric is never worth failing or logging noise for; the next event counts again.
    } finally {
      this.busy.delete(submissionId);
    }
  }
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return null; }
}
