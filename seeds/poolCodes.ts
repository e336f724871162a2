import fs from 'node:fs';
import path from 'node:path';
import { codeToHex } from '../src/retrieval/code.js';
import { decodeImage } from '../src/retrieval/decode.js';
import { HashModel } from '../src/retrieval/HashModel.js';
import { SOURCES, type Pair } from './imageSources.js';
import { Random } from './random.js';

/** Hash codes of real images, by (modality, site) pair and by modality. */
export interface PoolCodes { byPair: Map<string, string[]>; byModality: Map<string, string[]> }

/**
 * Codes the real model computes for a few real images of each (modality, site) pair the
 * default archive has sources for (the DICOM the seed builds, decoded as the pipeline decodes
 * uploads). The metadata-only benchmark seed gives its rows these codes instead of random
 * noise, so similarity over them ranks like similarity over real images; rows of modalities
 * without any real source get none and similarImages leaves them out.
 */
export async function poolCodes(perPair = 3): Promise<PoolCodes> {
  // The codes are a pure function of the model, the sources and the seed: `npm test` computes them
  // once per run (OBIA_POOL_CODES_CACHE, a folder of its own) instead of once per app it seeds.
  const cacheDir = process.env.OBIA_POOL_CODES_CACHE;
  if (!cacheDir) return computePoolCodes(perPair);
  const file = path.join(cacheDir, `pool-codes-${perPair}.json`);
  if (fs.existsSync(file)) {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as { byPair: [string, string[]][]; byModality: [string, string[]][] };
    return { byPair: new Map(cached.byPair), byModality: new Map(cached.byModality) };
  }
  const codes = await computePoolCodes(perPair);
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written whole, then renamed: a concurrent reader sees the file complete or not at all.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ byPair: [...codes.byPair], byModality: [...codes.byModality] }));
  fs.renameSync(tmp, file);
  return codes;
}

async function computePoolCodes(perPair: number): Promise<PoolCodes> {
  const rng = new Random('obia-hub-pool-codes');
  const model = await HashModel.load();
  const byPair = new Map<string, string[]>();
  const byModality = new Map<string, string[]>();
  try {
    for (const [pair, source] of Object.entries(SOURCES) as [Pair, (n: number) => ReturnType<(typeof SOURCES)[Pair]>][]) {
      const [modality, site] = pair.split(':') as [string, string];
      const images: Uint8Array[] = [];
      for (const unit of source(perPair)) {
        const files = unit.build({
          patientId: 'POOL', patientName: 'POOL', age: 50, studyInstanceUid: rng.uid(), studyDate: '20200101', studyDescription: '', studyId: '1',
          seriesInstanceUid: rng.uid(), seriesNumber: 1, seriesDescription: unit.description, modality, site, uid: () => rng.uid(),
        });
        images.push(files[Math.floor(files.length / 2)]!);
      }
      const codes = (await model.hashImages(await Promise.all(images.map((b) => decodeImage(b))))).map(codeToHex);
      byPair.set(pair, codes);
      byModality.set(modality, [...(byModality.get(modality) ?? []), ...codes]);
    }
  } finally {
    await model.close();
  }
  return { byPair, byModality };
}
