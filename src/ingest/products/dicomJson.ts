import { toDicomJson } from '../../dicom/index.js';
import type { DerivedProduct } from './product.js';

/**
 * The image's metadata in the DICOM JSON Model (PS3.18 Annex F), as DICOMweb's WADO-RS
 * /metadata serves it: made by the worker from the header de-identification just wrote (so it
 * holds exactly what the archived file holds), kept in the derived-data cache beside the
 * thumbnails (content-addressed), its hash on the image's row. Bulk data is referenced
 * ("bulkdata/<tag>", relative to the instance), never inlined beyond 1 KiB.
 */
export const dicomJson: DerivedProduct<string> = {
  name: 'dicomJson',
  // Kept in the derived-data cache, which an archive without thumbnails (the CLI's --no-thumbnails) has not.
  wanted: (s) => s.thumbnails,
  derive(src) {
    const json = toDicomJson(src.header.dict);
    if (src.header.pixelValue) json['7FE00010'] = { vr: src.header.pixelVr, BulkDataURI: 'bulkdata/7FE00010' };
    return src.thumbnails!.putSync(Buffer.from(JSON.stringify(json)));
  },
  accept(items) {
    for (const { work, value } of items) (work.imageColumns ??= {}).metadata_sha256 = value;
  },
  missing: (_file, image) => !!image && !image.metadataSha256,
};
