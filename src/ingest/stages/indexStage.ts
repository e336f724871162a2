// index: STORED → INDEXED for the batch, in one statement; the images' hash codes join the live
// Hamming index (similarImages) once the mark is durable.
import { SubmissionFile } from '../../entities/index.js';
import { FileState } from '../../entities/SubmissionFile.js';
import type { Stage } from './deps.js';

export const indexStage: Stage = {
  name: 'index',
  async run(batch, deps) {
    const stored = batch.works.filter((w) => batch.live(w) && w.file.state === FileState.STORED);
    if (stored.length === 0) return;
    await deps.em().nativeUpdate(SubmissionFile, { id: { $in: stored.map((w) => w.file.id) } }, { state: FileState.INDEXED });
    for (const w of stored) {
      w.file.state = FileState.INDEXED;
      if (deps.catalog && w.image && w.hashCode != null) deps.catalog.add(w.image.id, w.image.seriesId, w.hashCode);
    }
  },
};
