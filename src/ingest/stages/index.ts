// The pipeline's stages, in order. Screening runs first over the whole submission (its
// cross-file checks need every file); the rest run per batch:
//   identify → de-identify and store → catalogue → derive → index
export { screen, type Screened } from './screen.js';
import { catalogue } from './catalogue.js';
import { deidentifyAndStore } from './deidentify.js';
import type { Stage } from './deps.js';
import { derive } from './derive.js';
import { identify } from './identify.js';
import { indexStage } from './indexStage.js';

export const BATCH_STAGES: readonly Stage[] = [identify, deidentifyAndStore, catalogue, derive, indexStage];
export type { PipelineDeps, Stage } from './deps.js';
