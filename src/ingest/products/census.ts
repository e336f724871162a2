import type { RunCensus } from '../../qc/CensusService.js';
import { TagCensus, type TagCensusJson } from '../../qc/TagCensus.js';
import type { DerivedProduct, ProductEnv } from './product.js';

/** The census this run has built so far, and the files in it. */
function runCensus(env: ProductEnv): RunCensus {
  let c = env.run.accumulated.get('census') as RunCensus | undefined;
  if (!c) env.run.accumulated.set('census', (c = { census: new TagCensus({ options: env.run.options }), files: new Set() }));
  return c;
}

/** One batch job's census and the files in it, as the finish job receives it (src/jobs). */
interface CensusPartial { census: TagCensusJson; files: number[] }

/**
 * QC's tag census (what TagSniffer gives OBIA's curators): each file's census is taken from the
 * header the worker already holds, merged over the run, and persisted once at the end.
 */
export const census: DerivedProduct<TagCensusJson> = {
  name: 'census',
  wanted: () => true,
  derive(src) {
    const c = new TagCensus({ options: src.options });
    const { dict, pixelValue, pixelVr } = src.header;
    c.addDataset(pixelValue ? { ...dict, '7FE00010': { vr: pixelVr, Value: [pixelValue] } } : dict);
    return c.toJSON();
  },
  accept(items, env) {
    const c = runCensus(env);
    for (const { work, value } of items) {
      c.census.merge(TagCensus.fromJSON(value));
      c.files.add(work.file.id);
    }
  },
  // A file stored by an interrupted run is counted when the census is next read (currentCensus).
  missing: () => false,
  partial(env) {
    const c = env.run.accumulated.get('census') as RunCensus | undefined;
    return c && c.files.size > 0 ? { census: c.census.toJSON(), files: [...c.files] } satisfies CensusPartial : undefined;
  },
  absorb(partial, env) {
    const { census: json, files } = partial as CensusPartial;
    const c = runCensus(env);
    // A file in two partials would be counted twice; left out, it is read back by finish instead.
    if (files.some((id) => c.files.has(id))) return;
    c.census.merge(TagCensus.fromJSON(json));
    for (const id of files) c.files.add(id);
  },
  async finish(env) {
    // A census that cannot be updated must not fail the run; the next query catches up.
    const stats = { fromRun: 0, readBack: 0 };
    // Loaded here, on the main thread, not at the top: the worker threads load this module for
    // derive() alone, and CensusService brings the ORM and the entities (≈ 0.5 CPU-s a thread).
    const { currentCensus } = await import('../../qc/CensusService.js');
    await currentCensus(env.run.em(), env.store, env.run.submissionId, runCensus(env), stats)
      .catch((err) => env.run.log.warn({ err }, 'tag census not updated'));
    return stats;
  },
};
