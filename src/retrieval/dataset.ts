import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface LabelledFile {
  path: string;
  /** index into classes (sorted directory names) */
  label: number;
  /** `<class>/<file>`, stable across machines */
  key: string;
}

/** OBIA_RETRIEVAL_DATA, else ../shared/retrieval next to the checkout. */
export function retrievalDataRoot(): string {
  return process.env.OBIA_RETRIEVAL_DATA ?? path.resolve(process.cwd(), '../shared/retrieval');
}

/** Files of one split in a fixed order (class name, then file name), the order training/ also uses. */
export function listSplit(split: 'train' | 'val', root = retrievalDataRoot()): { classes: string[]; files: LabelledFile[] } {
  const dir = path.join(root, split);
  const classes = readdirSync(dir)
    .filter((c) => statSync(path.join(dir, c)).isDirectory())
    .sort();
  const files: LabelledFile[] = [];
  classes.forEach((c, label) => {
    for (const f of readdirSync(path.join(dir, c)).sort()) {
      if (/\.(jpe?g|png)$/i.test(f)) files.push({ path: path.join(dir, c, f), label, key: `${c}/${f}` });
    }
  });
  return { classes, files };
}

/** OBIA_RETRIEVAL_BRAIN_DATA, else ../shared/retrieval-brain next to the checkout. */
export function brainDataRoot(): string {
  return process.env.OBIA_RETRIEVAL_BRAIN_DATA ?? path.resolve(process.cwd(), '../shared/retrieval-brain');
}

/** Slices per patient block in the brain set: files are named by their 1-based index in the original 3,064. */
export const BRAIN_BLOCK = 60;

/**
 * The block of consecutive indices a brain slice belongs to ((index − 1) div 60). One patient's
 * slices share a block, so splits are made by block, never by slice.
 */
export function brainBlock(file: LabelledFile): number {
  const m = /(\d+)\.(jpe?g|png)$/i.exec(file.key);
  if (!m) throw new RangeError(`brain slice without an index: ${file.key}`);
  return Math.floor((Number(m[1]) - 1) / BRAIN_BLOCK);
}

/**
 * The brain set's evaluation split. The shared folder holds blocks 0–3 of every 5 (block 4 is
 * withheld by the data set's publisher); the model trains on blocks 0–2 of every 5 and never sees
 * block 3, whose slices are the queries. The database is the training blocks, as in the
 * published patient-wise protocol (query from unseen patients, rank the archive).
 */
export function brainIsHeldOut(file: LabelledFile): boolean {
  return brainBlock(file) % 5 === 3;
}
