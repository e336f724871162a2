// One-off repair of seeds/images/cr-chest-dicom/01.dcm, kept so the committed file can be remade.
// The copy of NEMA WG04's RG1_J2KI in pydicom-data ends 8,166 bytes before its last Pixel Data
// fragment does (the JPEG 2000 codestream is cut short, with no EOC marker), and its PixelSpacing
// is 0\0 (no spacing at all). The archive's own front door (src/dicom/framing.ts) quarantines such a
// file as TRUNCATED, and OHIF cannot lay out an image whose pixels have no size (its camera scale
// becomes NaN: a black viewport). So: decode what the stream holds (OpenJPEG decodes a cut stream to
// the full image, losing only the last refinement), re-encode it as JPEG 2000 (irreversible, transfer
// syntax 1.2.840.10008.1.2.4.91 as before), write the fragment whole, and drop the PixelSpacing (Type 3 in a CR image).
// Run: node scripts/seed-images/repair-cr-chest.mjs <original.dcm> seeds/images/cr-chest-dicom/01.dcm
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dcmjs = require('dcmjs');
const [input, output] = process.argv.slice(2);
if (!input || !output) throw new Error('usage: repair-cr-chest.mjs <input.dcm> <output.dcm>');

const bytes = fs.readFileSync(input);
// dcmjs reads the cut fragment, zero-filling what is missing; only the codestream's own bytes are used.
const file = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(file.dict);
const fragments = ds.PixelData;
const stream = Buffer.concat(fragments.map((f) => Buffer.from(f)));

const openjpeg = await require('@cornerstonejs/codec-openjpeg/wasmjs')();
const decoder = new openjpeg.J2KDecoder();
decoder.getEncodedBuffer(stream.length).set(stream);
decoder.decode();
const info = decoder.getFrameInfo();
const pixels = Buffer.from(decoder.getDecodedBuffer());
decoder.delete();
console.log(`decoded ${info.width}×${info.height}, ${info.bitsPerSample} bits, signed ${info.isSigned}`);

const encoder = new openjpeg.J2KEncoder();
encoder.getDecodedBuffer(info).set(pixels);
// Irreversible, as the original: this OpenJPEG build's encoder takes no rate, so the file is 2.6 times
// the original's size, still under half of what a reversible encoding takes (3.9 MB).
encoder.setQuality(false, 0);
encoder.encode();
const encoded = Buffer.from(encoder.getEncodedBuffer());
encoder.delete();
console.log(`re-encoded: ${encoded.length} bytes (original stream ${stream.length})`);

const padded = encoded.length % 2 ? Buffer.concat([encoded, Buffer.alloc(1)]) : encoded;
ds.PixelData = [padded.buffer.slice(padded.byteOffset, padded.byteOffset + padded.length)];
delete ds.PixelSpacing;
ds.DerivationDescription = 'NEMA WG04 RG1_J2KI, codestream cut short in the distributed copy: decoded and re-encoded as JPEG 2000 by OBIA Hub';
const denat = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(ds);
const out = new dcmjs.data.DicomDict(file.meta);
out.dict = denat;
fs.writeFileSync(output, Buffer.from(out.write({ fragmentMultiframe: false })));
console.log(`wrote ${output}`);
