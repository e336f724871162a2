// derive: the main-thread halves of the derived products (products/index.ts) over the batch's
// stored files. A file stored by an interrupted run first gets, from the worker, the worker
// halves of whatever it still lacks, read back from the archive: the same functions the first
// pass ran, so a resumed file ends up with the same products. What the products set on the
// files' and images' rows is written in one statement per table. A product that fails leaves the
// image archived without it (logged by class), never quarantined.
import { Image } from '../../entities/index.js';
import { FileState } from '../../entities/SubmissionFile.js';
import { hexToCode } from '../../retrieval/code.js';
import { updateRows } from '../batchWrites.js';
import type { ProductEnv, ProductResult } from '../products/index.js';
import type { Batch, FileWork } from '../stage.js';
import type { PipelineDeps, Stage } from './deps.js';

export const derive: Stage = {
  name: 'derive',
  async run(batch, deps) {
    await resumeStored(batch, deps);
    const stored = batch.works.filter((w) => batch.live(w) && w.file.state === FileState.STORED && w.image);
    const env: ProductEnv = { run: batch.run, catalog: deps.catalog, store: deps.store };
    for (const product of deps.products) {
      const items: { work: FileWork; value: unknown }[] = [];
      for (const w of stored) {
        const r: ProductResult | undefined = w.products?.[product.name];
        if (!r) continue;
        if ('value' in r) items.push({ work: w, value: r.value });
        else batch.run.log.warn({ file: w.file.id, product: product.name, error: r.error }, 'derived product not made');
      }
      if (items.length) await product.accept(items, env);
    }
    const em = deps.em();
    await updateRows(em, 'submission_file', stored.filter((w) => w.fileColumns).map((w) => ({ id: w.file.id, values: w.fileColumns! })));
    await updateRows(em, 'image', stored.filter((w) => w.imageColumns).map((w) => ({ id: w.image!.id, values: w.imageColumns! })));
  },
};

/** STORED files of an earlier run: their Image rows, and the worker halves of what they lack. */
async function resumeStored(batch: Batch, deps: PipelineDeps): Promise<void> {
  const resumed = batch.works.filter((w) => batch.live(w) && w.file.state === FileState.STORED && !w.image);
  if (resumed.length === 0) return;
  const images = new Map((await deps.em().find(Image, { uid: { $in: resumed.map((w) => w.file.imageUid!) } }, { fields: ['id', 'uid', 'series', 'hashCode', 'metadataSha256'] })).map((i) => [i.uid, i]));
  await Promise.all(resumed.map(async (w) => {
    const image = images.get(w.file.imageUid!) ?? null;
    if (image) {
      w.image = { id: image.id, seriesId: image.series.id, uid: image.uid };
      if (image.hashCode) w.hashCode = hexToCode(image.hashCode);
    }
    const lacking = deps.products.filter((p) => p.missing(w.file, image)).map((p) => p.name);
    if (!w.image || !w.file.storedSha256 || lacking.length === 0) return;
    try {
      w.products = await deps.cpu.derive(w.file.storedSha256, batch.run.options, lacking, deps.storage);
    } catch (err) {
      batch.run.log.warn({ err, file: w.file.id }, 'derived products of a stored file not made');
    }
  }));
}
