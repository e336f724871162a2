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
