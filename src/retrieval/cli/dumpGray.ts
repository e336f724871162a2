/**
 * Writes a split's images as decoded 8-bit grey for training/ (Python). JPEG decoders
 * are allowed to differ by ±1 per pixel (libjpeg-turbo vs jpeg-js differ on ~5% of
 * pixels here), so the trainer uses the server's own decoder to keep codes identical.
 * Output: <out>.u8 (concatenated pixels) and <out>.json ([{key,label,width,height,offset}]).
 * `seed` writes the default archive's own images (seedArchive.ts), labelled by `MODALITY:SITE`,
 * with each image's source and series number.
 */
import { writeFileSync } from 'node:fs';
import { decodeImageFile } from '../decode';
import { listSplit, retrievalDataRoot } from '../dataset';
import { seedArchiveImages } from '../seedArchive';

async function dumpSeed(out: string): Promise<void> {
  const images = await seedArchiveImages();
  const classes = [...new Set(images.map((i) => i.pair))].sort();
  let offset = 0;
  const index = images.map((img, i) => {
    const e = { key: `seed/${img.series}/${i}`, label: classes.indexOf(img.pair), source: img.source, series: img.series,
      width: img.gray.width, height: img.gray.height, offset };
    offset += img.gray.data.length;
    return e;
  });
  writeFileSync(`${out}.u8`, Buffer.concat(images.map((i) => i.gray.data)));
  writeFileSync(`${out}.json`, JSON.stringify({ classes, images: index }));
  console.error(`seed archive: ${images.length} images, ${classes.length} (modality, site) pairs → ${out}.u8`);
}

async function main(): Promise<void> {
  const [split, out, root] = process.argv.slice(2);
  if (split === 'seed' && out) return dumpSeed(out);
  if ((split !== 'train' && split !== 'val') || !out) {
    console.error('usage: node dist/src/retrieval/cli/dumpGray.js train|val|seed <out-prefix> [data-root]');
    process.exit(2);
  }
  const { classes, files } = listSplit(split, root ?? retrievalDataRoot());
  const index: { key: string; label: number; width: number; height: number; offset: number }[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const img = await decodeImageFile(f.path);
    index.push({ key: f.key, label: f.label, width: img.width, height: img.height, offset });
    chunks.push(img.data);
    offset += img.data.length;
  }
  writeFileSync(`${out}.u8`, Buffer.concat(chunks));
  writeFileSync(`${out}.json`, JSON.stringify({ classes, images: index }));
  console.error(`${split}: ${files.length} images, ${classes.length} classes → ${out}.u8`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
