// de-identify → store: in one visit to the worker, each file is de-identified (PS3.15 Annex E,
// src/deid), its output written to both roots of the blob store and verified, and the derived
// products' worker halves run over the header just written. The file becomes DEIDENTIFIED with
// the stored copy's hash (content-addressed, so a repeat after a crash stores nothing twice).
import { dateOffsetDays } from '../../deid/index.js';
import { FileState } from '../../entities/SubmissionFile.js';
import { updateRows } from '../batchWrites.js';
import { stagedSha256 } from '../stagedBytes.js';
import type { Stage } from './deps.js';

export const deidentifyAndStore: Stage = {
  name: 'de-identify and store',
  async run(batch, deps) {
    const todo = batch.works.filter((w) => batch.live(w) && w.file.state !== FileState.STORED && w.individual);
    const names = deps.products.map((p) => p.name);
    await Promise.all(todo.map(async (w) => {
      try {
        const individual = w.individual!;
        w.outcome = await deps.cpu.deidentify(deps.staging.absolute(w.file.stagingPath), stagedSha256(w.file.stagingPath, w.file.sha256), {
          // The de-identifier's key remaps UIDs only; dates are shifted by the archive's.
          secret: batch.run.uidKey, individualAccession: individual.accession,
          dateOffsetDays: dateOffsetDays(individual.accession, deps.secret), options: batch.run.options,
        }, names, deps.storage);
        w.products = w.outcome.products;
        Object.assign(w.file, { state: FileState.DEIDENTIFIED, storedSha256: w.outcome.sha256, heldForPixelReview: w.outcome.heldForPixelReview });
      } catch (e) {
        batch.fail(w, e);
      }
    }));
    const done = todo.filter((w) => batch.live(w) && w.outcome);
    await updateRows(deps.em(), 'submission_file', done.map((w) => ({
      id: w.file.id, values: { state: FileState.DEIDENTIFIED, stored_sha256: w.outcome!.sha256, held_for_pixel_review: w.outcome!.heldForPixelReview },
    })));
  },
};
