/**
 * npm run hash -- <files…>   → "<file>\t<16 hex digits>" per file (PNG, JPEG, DICOM).
 * A file that cannot be read or decoded is reported on stderr and skipped; the exit
 * status is 1 if any file failed.
 */
import { codeToHex } from '../code';
import { decodeImageFile } from '../decode';
import { HashModel } from '../HashModel';

async function main(): Promise<number> {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run hash -- <image files (PNG, JPEG, DICOM)…>');
    return 2;
  }
  const model = await HashModel.load();
  let failed = 0;
  for (const file of files) {
    try {
      const code = await model.hashImage(await decodeImageFile(file));
      process.stdout.write(`${file}\t${codeToHex(code)}\n`);
    } catch (e) {
      failed++;
      console.error(`${file}: error: ${(e as Error).message}`);
    }
  }
  await model.close();
  if (failed) console.error(`${failed} of ${files.length} file(s) failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
