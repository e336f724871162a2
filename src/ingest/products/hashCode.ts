import { grayOf } from '../../imaging/index.js';
import { codeToHex } from '../../retrieval/code.js';
import { ModelIntegrityError } from '../../retrieval/modelFile.js';
import { preprocess } from '../../retrieval/preprocess.js';
import type { DerivedProduct } from './product.js';

/**
 * The retrieval model's 64-bit code for similarImages. The worker half prepares the model's
 * input (preprocess.ts) from the display frame; the main-thread half runs the model once for
 * the whole batch (onnxruntime batches well, a session per worker would not) and keeps the code
 * on the image's row; the index stage adds it to the live Hamming index.
 */
export const hashCode: DerivedProduct<Float32Array> = {
  name: 'hashCode',
  wanted: (s) => s.hashCodes,
  async derive(src) {
    return preprocess(grayOf(await src.display()));
  },
  async accept(items, env) {
    if (!env.catalog || items.length === 0) return;
    try {
      const model = await env.catalog.hashModel();
      const codes = await model.hashInputs(items.map((i) => i.value));
      items.forEach(({ work }, i) => {
        work.hashCode = codes[i];
        (work.imageColumns ??= {}).hash_code = codeToHex(codes[i]);
      });
    } catch (err) {
      // An image without a code is archived all the same, only not findable by similarity yet;
      // never with a code from a model that is not the pinned one (the load refuses it, and the
      // log names the class: ModelIntegrityError).
      if (err instanceof ModelIntegrityError) env.run.log.error({ err, files: items.length }, 'no hash codes for a batch: the hash model is not the pinned one');
      else env.run.log.warn({ err, files: items.length }, 'no hash codes for a batch');
    }
  },
  missing: (_file, image) => !!image && !image.hashCode,
};
