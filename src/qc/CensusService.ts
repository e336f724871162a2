import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { Submission, SubmissionFile } from '../entities/index.js';
import { SubmissionCensus } from '../entities/SubmissionCensus.js';
import { FileState } from '../entities/SubmissionFile.js';
import type { BlobStore } from '../storage/BlobStore.js';
import { TagCensus } from './TagCensus.js';

/** The census an ingest run built from its workers' per-file censuses, and the files in it. */
export interface RunCensus {
  census: TagCensus;
  files: Set<number>;
}

/** What bringing a census up to date took: files counted from the run's census, and files read back from the blob store. */
export interface CensusStats { fromRun: number; readBack: number }

/**
 * Brings a submission's persisted census up to date with its stored files and returns it.
 * Only files not yet counted are read (each once, from the blob store, de-identified as
 * archived), so a query after ingest reads nothing and a query after new files reads those.
 */
export async function currentCensus(em: EntityManager, store: BlobStore, submissionId: number, known?: RunCensus, stats?: CensusStats): Promise<TagCensus> {
  const row = await em.findOne(SubmissionCensus, { submission: submissionId });
  const counted = new Set(row?.countedFiles ?? []);
  if (row) {
    // Up to date when the stored files are the ones counted: one aggregate over the (submission,
    // state) index, instead of every stored file's row on every query (200,000 for a zip at its bound).
    const knex = em.getKnex();
    const held = await knex('submission_file').where('submission_id', submissionId).whereIn('state', [FileState.STORED, FileState.INDEXED])
      .whereNotNull('stored_sha256').first(knex.raw('count(*) as n'), knex.raw('coalesce(sum(id), 0) as ids'));
    let ids = 0;
    for (const id of counted) ids += id;
    if (Number(held?.n) === counted.size && Number(held?.ids) === ids) return TagCensus.fromJSON(row.census);
  }
  const submission = row ? null : await em.findOneOrFail(Submission, { id: submissionId });
  const census = row ? TagCensus.fromJSON(row.census) : new TagCensus({ options: submission!.deidOptions });
  const fresh = (await em.find(SubmissionFile, {
    submission: submissionId, state: { $in: [FileState.STORED, FileState.INDEXED] }, storedSha256: { $ne: null },
  }, { fields: ['id', 'storedSha256'], orderBy: { id: 'asc' } })).filter((f) => !counted.has(f.id));
  if (fresh.length === 0 && row) return census;
  // The pipeline's census of the files it stored counts them without reading them back, unless
  // a query counted some of them meanwhile (then those would be counted twice).
  const freshIds = new Set(fresh.map((f) => f.id));
  const useRun = known && known.files.size > 0 && [...known.files].every((id) => freshIds.has(id));
  if (useRun) census.merge(known.census);
  for (const f of fresh) {
    if (!useRun || !known.files.has(f.id)) {
      census.addPart10(await store.get(f.storedSha256!));
      if (stats) stats.readBack++;
    } else if (stats) stats.fromRun++;
    counted.add(f.id);
  }
  const values = { census: census.toJSON(), countedFiles: [...counted].sort((a, b) => a - b), updatedAt: new Date() };
  try {
    if (row) Object.assign(row, values);
    else em.create(SubmissionCensus, { submission: em.getReference(Submission, submissionId), ...values });
    await em.flush();
  } catch (e) {
    // Another request caught up at the same moment and saved the same census; ours is as good.
    if (!(e instanceof UniqueConstraintViolationException)) throw e;
    em.clear();
  }
  return census;
}
