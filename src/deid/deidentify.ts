import { cleanDataset, type CleanEnv } from './actions';
import { burnedInReason, burnedInView, matchPixelRule } from './burnedIn';
import { dcmjs, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, NATIVE_SYNTAXES, frame, readDicom, tagText, type DicomDataset, type DicomFile, type FramedFile } from '../dicom';
import { DicomParseError } from '../dicom/errors';
import { stampMethod } from './method';
import { blankRegions } from './pixels';
import { iodRequirements } from './iod';
import { buildProfile } from './profile';
import type { DeidContext, DeidResult, SourceIdentity } from './types';
import { remapUid } from './uids';
import { Part10Writer } from './writer';

const IMPLEMENTATION_CLASS_UID = remapUid('OBIA Hub de-identification engine', 'obia-hub');
const IMPLEMENTATION_VERSION = 'OBIA_DEID_1';
const part10 = new Part10Writer();

/** How a de-identified dataset becomes bytes (the cached dcmjs encoding of writer.ts, unless a caller names another). */
export interface DatasetWriter {
  write(meta: DicomDataset, dict: DicomDataset): Buffer;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A file as the front door read it (src/dicom): its framing, dcmjs's reading, and whether that is the header only. */
type Parsed = DicomFile;

/**
 * `headerOnly`: parse everything but a Pixel Data that ends the dataset (elements after one,
 * such as trailing padding or signatures, need the full parse so that the profile sees them).
 */
function parse(input: Uint8Array, headerOnly = false): Parsed {
  const file = readDicom(input, { headerOnly });
  const ds = file.message.dict;
  // A cut at an element boundary leaves a well-formed dataset; an image whose Pixel Data is
  // gone is the tell-tale of such a truncated upload (QC names it NO_PIXEL_DATA).
  if (ds['00280010'] && ds['00280011'] && !file.headerOnly && !ds['7FE00010'] && !ds['7FE00008'] && !ds['7FE00009']) {
    throw new DicomParseError('truncated: the image has Rows and Columns but no Pixel Data');
  }
  return file;
}

/** Parse only: what the pipeline needs to map the file to an individual before de-identifying it. */
export function readSourceIdentity(input: Uint8Array): SourceIdentity {
  const { message: dict } = parse(input, true);
  return {
    patientId: tagText(dict.dict, '00100020'),
    studyInstanceUid: tagText(dict.dict, '0020000D'),
    seriesInstanceUid: tagText(dict.dict, '0020000E'),
    sopInstanceUid: tagText(dict.dict, '00080018'),
  };
}

/** dcmjs reads a zero-length Pixel Data as two zero bytes, which then mismatch Rows x Columns; an empty one says nothing, so it goes. */
function dropEmptyPixelData(ds: DicomDataset, env: CleanEnv, declaredLength: number | null): void {
  if (declaredLength === 0 && ds['7FE00010']) {
    delete ds['7FE00010'];
    env.actions.push({ tag: '7FE00010', keyword: 'PixelData', action: 'X zero-length Pixel Data removed' });
  }
}

function checkContext(ctx: DeidContext): void {
  if (!ctx || typeof ctx.secret !== 'string' || ctx.secret.length < 16) throw new TypeError('DeidContext.secret must be a string of at least 16 characters');
  if (typeof ctx.individualAccession !== 'string' || ctx.individualAccession.trim() === '') throw new TypeError('DeidContext.individualAccession is required');
  if (!Number.isInteger(ctx.dateOffsetDays)) throw new TypeError('DeidContext.dateOffsetDays must be an integer');
  if (!ctx.options) throw new TypeError('DeidContext.options is required');
}

/**
 * `opts.outputBuffer` lends the buffer the output is assembled in (at least `size` bytes; the
 * output is its first `size`): a caller that stores the output and drops it before the next
 * call saves allocating the size of every file, which is what drives garbage collection.
 * `opts.writer` encodes the dataset (tests compare writers through it).
 */
export function deidentify(input: Uint8Array, ctx: DeidContext, opts: { outputBuffer?: (size: number) => Buffer; writer?: DatasetWriter } = {}): DeidResult {
  checkContext(ctx);
  let parsed = parse(input, true);
  let view = burnedInView(parsed.message.dict);
  if (parsed.headerOnly) view.PixelData = true;
  let held = burnedInReason(view);
  // Blanking regions and dropping an empty Pixel Data edit the pixels, so those rare files
  // take the full parse.
  if (parsed.headerOnly && ((held !== null && ctx.options.cleanPixelData && matchPixelRule(view)) || parsed.framed.pixelDataLength === 0)) {
    parsed = parse(input);
    view = burnedInView(parsed.message.dict);
  }
  const { message: dict, framed, headerOnly } = parsed;
  const ds = dict.dict;
  const sourceSopClass = tagText(ds, '00080016') ?? framed.sourceMeta['00020002'] ?? null;
  const env: CleanEnv = { profile: buildProfile(ctx.options), iod: iodRequirements(sourceSopClass), ctx, actions: [], datesShifted: false };
  for (const d of framed.dropped) env.actions.push({ tag: d.tag, action: `X removed before parsing (${d.why})` });
  const sourceSopInstance = tagText(ds, '00080018') ?? framed.sourceMeta['00020003'] ?? null;

  cleanDataset(ds, env);
  // The archive knows the individual even when the sender left the Patient module out;
  // stating it in every file keeps the output self-describing.
  for (const [tag, value] of [['00100010', { Alphabetic: ctx.individualAccession }], ['00100020', ctx.individualAccession]] as const) {
    if (!ds[tag]) {
      ds[tag] = { vr: tag === '00100010' ? 'PN' : 'LO', Value: [value] };
      env.actions.push({ tag, action: 'added individual accession' });
    }
  }

  if (held !== null && ctx.options.cleanPixelData) {
    const rule = matchPixelRule(view);
    if (rule) {
      const problem = blankRegions(ds, !NATIVE_SYNTAXES.has(framed.transferSyntaxUid), rule.regions);
      if (problem === null) {
        held = null;
        ds['00280301'] = { vr: 'CS', Value: ['NO'] };
        env.actions.push({ tag: '7FE00010', keyword: 'PixelData', action: `C regions blanked by pixel rule "${rule.name}"` });
      } else {
        held += `; pixel rule "${rule.name}" matched but ${problem}`;
      }
    }
  }
  stampMethod(ds, ctx.options);
  dropEmptyPixelData(ds, env, framed.pixelDataLength);

  const meta: DicomDataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020010': { vr: 'UI', Value: [framed.transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [IMPLEMENTATION_VERSION] },
  };
  if (sourceSopClass) meta['00020002'] = { vr: 'UI', Value: [sourceSopClass] };
  if (sourceSopInstance) {
    meta['00020003'] = { vr: 'UI', Value: [remapUid(sourceSopInstance, ctx.secret)] };
    env.actions.push({ tag: '00020003', keyword: 'MediaStorageSOPInstanceUID', action: 'U uid remapped' });
  }
  let output: Buffer;
  try {
    const written = (opts.writer ?? part10).write(meta, ds);
    // The pixels, in the same transfer syntax, follow the rewritten header byte for byte.
    if (headerOnly) {
      const pixels = framed.pixelElement!.bytes;
      const size = written.length + pixels.length;
      output = (opts.outputBuffer?.(size) ?? Buffer.allocUnsafe(size)).subarray(0, size);
      output.set(written, 0);
      output.set(pixels, written.length);
    } else {
      output = written;
    }
  } catch (e) {
    throw new DicomParseError(`the de-identified dataset could not be written: ${message(e).slice(0, 200)}`);
  }
  // What leaves this function must be readable by the next stage; checking here turns a
  // writer bug into a quarantined file instead of a broken archive entry. The framing walk
  // checks every element of the output down to the last byte (lengths, VRs, sequence and item
  // delimiters); the header it holds is the dataset just written, so nothing is parsed twice.
  let stored: FramedFile;
  try {
    stored = frame(output);
  } catch (e) {
    throw new DicomParseError(`the de-identified output does not parse again: ${message(e).slice(0, 200)}`);
  }
  let natural: Record<string, unknown> | null = null;
  return {
    output,
    transferSyntaxUid: stored.transferSyntaxUid,
    // Naturalized on first use: the pipeline reads the header dict instead.
    get dataset() { return (natural ??= dcmjs.data.DicomMetaDictionary.naturalizeDataset(ds)); },
    header: headerOnly && stored.pixelElement ? {
      dict: ds, transferSyntaxUid: stored.transferSyntaxUid,
      pixelValue: stored.pixelElement.value,
      // Explicit VR files say OB or OW in the element; implicit ones leave it to the reader, as dcmjs does (OW).
      pixelVr: stored.transferSyntaxUid === IMPLICIT_LE ? 'OW' : Buffer.from(stored.pixelElement.bytes.subarray(4, 6)).toString('latin1'),
      encapsulated: stored.pixelDataLength === -1,
    } : null,
    heldForPixelReview: held,
    actions: env.actions,
  };
}
