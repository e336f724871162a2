/**
 * The burned-in text corpus: real images from ../shared (ultrasound, CT, MR, radiographs) with
 * text rendered into their pixels by Skia (@napi-rs/canvas) in Debian's fonts (DejaVu,
 * Liberation, WenQuanYi Micro Hei for Han characters), at seeded random fonts, sizes,
 * positions, contrasts and languages; plus images left clean and images with only harmless
 * annotations (orientation markers, scale bars). Each image is a DICOM file whose header names
 * the same patient the pixels show, with the ground truth of every PHI string it carries.
 */
import { createCanvas, GlobalFonts, loadImage, type SKRSContext2D } from '@napi-rs/canvas';
import fs from 'node:fs';
import path from 'node:path';
import type { DicomDataset } from '../../src/dicom';
import { decodeFrameAtSize, grayOf, toDisplay8 } from '../../src/imaging';
import type { Box } from '../../src/deid/burnedInText';
import { writePart10 } from '../../test/support/dicom.js';
import { mulberry32 } from '../../test/support/random.js';

export const SHARED = path.resolve(process.cwd(), '../shared');

/** Deterministic PRNG (the test kit's mulberry32): the corpus is the same for a seed on every machine. */
export const rng = mulberry32;

const LATIN_FONTS: [string, string][] = [
  ['DejaVu Sans', 'dejavu/DejaVuSans.ttf'], ['DejaVu Sans Bold', 'dejavu/DejaVuSans-Bold.ttf'], ['DejaVu Serif', 'dejavu/DejaVuSerif.ttf'],
  ['DejaVu Sans Mono', 'dejavu/DejaVuSansMono.ttf'], ['DejaVu Sans Condensed', 'dejavu/DejaVuSansCondensed.ttf'],
  ['Liberation Sans', 'liberation/LiberationSans-Regular.ttf'], ['Liberation Serif', 'liberation/LiberationSerif-Regular.ttf'],
  ['Liberation Mono', 'liberation/LiberationMono-Regular.ttf'], ['Liberation Sans Narrow', 'liberation/LiberationSansNarrow-Regular.ttf'],
  ['Liberation Sans Bold', 'liberation/LiberationSans-Bold.ttf'],
];
const HAN_FONT: [string, string] = ['WenQuanYi Micro Hei', 'wqy/wqy-microhei.ttc'];
const FONT_DIR = '/usr/share/fonts/truetype';

let fontsReady = false;
export function registerFonts(): void {
  if (fontsReady) return;
  for (const [family, file] of [...LATIN_FONTS, HAN_FONT]) {
    const p = path.join(FONT_DIR, file);
    if (!fs.existsSync(p)) throw new Error(`font ${p} is missing: .ci/run installs fonts-dejavu-core, fonts-liberation and fonts-wqy-microhei`);
    GlobalFonts.registerFromPath(p, family);
  }
  fontsReady = true;
}

const SURNAMES = ['ZHANG', 'WANG', 'LI', 'LIU', 'CHEN', 'YANG', 'HUANG', 'ZHAO', 'WU', 'ZHOU', 'SMITH', 'GARCIA', 'MUELLER', 'NGUYEN', 'OKAFOR', 'JOHANSSON', 'ROSSI', 'KOWALSKI'];
const GIVEN = ['WEI', 'FANG', 'XIAOMING', 'JING', 'HAO', 'LEI', 'YAN', 'MARIA', 'JAMES', 'ANNA', 'DAVID', 'FATIMA', 'LUCAS', 'ELENA', 'KENJI', 'PRIYA'];
const HAN_SURNAMES = ['张', '王', '李', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙'];
const HAN_GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '建华', '海燕'];
const INSTITUTIONS = ['Zhongshan Hospital', 'St Mary Medical Center', 'Riverside Clinic', 'Karolinska University Hospital', 'Huashan Hospital'];
const HAN_INSTITUTIONS = ['北京协和医院', '华山医院', '中山医院', '瑞金医院'];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export interface Identity {
  surname: string; given: string; hanSurname: string; hanGiven: string;
  patientId: string; accession: string; birthDate: string; studyDate: string; institution: string; hanInstitution: string;
}

function pick<T>(r: () => number, xs: T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function digits(r: () => number, n: number): string {
  let s = String(1 + Math.floor(r() * 9));
  while (s.length < n) s += String(Math.floor(r() * 10));
  return s;
}

function da(r: () => number, from: number, to: number): string {
  const y = from + Math.floor(r() * (to - from));
  const m = 1 + Math.floor(r() * 12), d = 1 + Math.floor(r() * 28);
  return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}

export function identity(r: () => number): Identity {
  return {
    surname: pick(r, SURNAMES), given: pick(r, GIVEN), hanSurname: pick(r, HAN_SURNAMES), hanGiven: pick(r, HAN_GIVEN),
    patientId: r() < 0.5 ? digits(r, 6 + Math.floor(r() * 4)) : `${pick(r, ['P', 'MRN', 'H', 'ZS'])}${digits(r, 6)}`,
    accession: `A${digits(r, 8)}`, birthDate: da(r, 1935, 2015), studyDate: da(r, 2005, 2025),
    institution: pick(r, INSTITUTIONS), hanInstitution: pick(r, HAN_INSTITUTIONS),
  };
}

function title(s: string): string {
  return s.charAt(0) + s.slice(1).toLowerCase();
}

/** A DICOM date as screens print it, in one of the usual formats. */
function printedDate(r: () => number, v: string, han: boolean): string {
  const y = v.slice(0, 4), m = v.slice(4, 6), d = v.slice(6, 8);
  if (han) return `${y}年${Number(m)}月${Number(d)}日`;
  return pick(r, [`${y}-${m}-${d}`, `${d}/${m}/${y}`, `${m}/${d}/${y}`, `${d}-${MONTHS[Number(m) - 1]}-${y}`, `${y}.${m}.${d}`, `${y}/${m}/${d}`, `${y}${m}${d}`]);
}

export interface PhiString {
  /** The PHI itself, as drawn (what must not be readable afterwards). */
  value: string;
  field: 'name' | 'id' | 'date' | 'institution';
  han: boolean;
  /** The drawn PHI's box (the value, not its label), in pixels. */
  box: Box;
  font: string; size: number; contrast: number;
}

export interface CorpusImage {
  id: string;
  kind: 'phi' | 'clean' | 'harmless';
  source: string;
  modality: string;
  width: number;
  height: number;
  part10: Buffer;
  phi: PhiString[];
  /** Harmless annotations drawn (orientation markers, scale bars). */
  harmless: Box[];
  /** 1 where any PHI glyph was drawn (ink), for the ink-survival measure. */
  ink: Uint8Array;
}

interface Background { name: string; modality: string; grey: Uint8Array; width: number; height: number; colour: boolean }

async function dicomGrey(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const f = await decodeFrameAtSize(fs.readFileSync(file), 0);
  return grayOf(toDisplay8(f));
}

async function pictureGrey(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const img = await loadImage(fs.readFileSync(file));
  const c = createCanvas(img.width, img.height);
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const rgba = g.getImageData(0, 0, img.width, img.height).data;
  const out = new Uint8Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i];
  return { width: img.width, height: img.height, data: out };
}

/** Resized to a display size screens use: small sources up to 512, radiographs down to 1024 at most. */
function resized(src: { width: number; height: number; data: Uint8Array }): { width: number; height: number; data: Uint8Array } {
  const longest = Math.max(src.width, src.height);
  const target = longest < 384 ? 512 : longest > 1024 ? 1024 : longest;
  if (target === longest) return src;
  const k = target / longest;
  const w = Math.round(src.width * k), h = Math.round(src.height * k);
  const c = createCanvas(src.width, src.height);
  const g = c.getContext('2d');
  const id = g.createImageData(src.width, src.height);
  for (let i = 0; i < src.data.length; i++) { id.data[4 * i] = id.data[4 * i + 1] = id.data[4 * i + 2] = src.data[i]; id.data[4 * i + 3] = 255; }
  g.putImageData(id, 0, 0);
  const d = createCanvas(w, h);
  const dg = d.getContext('2d');
  dg.imageSmoothingQuality = 'high';
  dg.drawImage(c, 0, 0, w, h);
  const rgba = dg.getImageData(0, 0, w, h).data;
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i];
  return { width: w, height: h, data: out };
}

/** The real images the corpus draws on, by modality. */
export async function backgrounds(r: () => number): Promise<Background[]> {
  const out: Background[] = [];
  const add = async (name: string, modality: string, load: Promise<{ width: number; height: number; data: Uint8Array }>, colour = false) => {
    let g: { width: number; height: number; data: Uint8Array };
    try {
      g = resized(await load);
    } catch (e) {
      // A shared sample the front door refuses is left out, said aloud, rather than stopping the whole eval.
      console.log(`background ${name} left out: ${(e as Error).message}`);
      return;
    }
    out.push({ name, modality, grey: g.data, width: g.width, height: g.height, colour });
  };
  const dicom = path.join(SHARED, 'deid/dicom');
  await add('US1_J2KR', 'US', dicomGrey(path.join(dicom, 'pydicomdata__US1_J2KR.dcm')), true);
  await add('US-ALOKA-16', 'US', dicomGrey(path.join(dicom, 'pydicomdata__gdcm-US-ALOKA-16.dcm')), true);
  await add('RG3_J2KI', 'CR', dicomGrey(path.join(dicom, 'pydicomdata__RG3_J2KI.dcm')));
  // ../shared/seed-images/nema/RG1_J2KI.dcm (a chest radiograph) ends inside its pixel item and
  // the front door refuses it; a MedNIST chest radiograph takes its place in the list, which
  // keeps the seeded draws of every other image as they were.
  await add('mednist/CXR/000001', 'CR', pictureGrey(path.join(SHARED, 'retrieval/train/CXR', fs.readdirSync(path.join(SHARED, 'retrieval/train/CXR')).sort()[0]!)));
  await add('CT_small', 'CT', dicomGrey(path.join(dicom, 'pydicom__CT_small.dcm')));
  await add('mr_prostate_1', 'MR', dicomGrey(path.join(SHARED, 'seed-images/tcia/mr_prostate_1.dcm')));
  const ctDir = path.join(SHARED, 'seed-images/totalsegmentator/example_ct_dicom');
  for (const f of fs.readdirSync(ctDir).sort().filter((_, i) => i % 5 === 0)) await add(`totalseg/${f.slice(-5)}`, 'CT', dicomGrey(path.join(ctDir, f)));
  for (const cls of ['glioma', 'meningioma', 'pituitary']) {
    const dir = path.join(SHARED, 'retrieval-brain/train', cls);
    const files = fs.readdirSync(dir).sort();
    for (let i = 0; i < 3; i++) await add(`brain/${cls}/${files[Math.floor(r() * files.length)]}`, 'MR', pictureGrey(path.join(dir, files[Math.floor(r() * files.length)])));
  }
  for (const cls of ['CXR', 'Hand']) {
    const dir = path.join(SHARED, 'retrieval/train', cls);
    const files = fs.readdirSync(dir).sort();
    for (let i = 0; i < 2; i++) await add(`mednist/${cls}`, 'CR', pictureGrey(path.join(dir, files[Math.floor(r() * files.length)])));
  }
  return out;
}

function meanAround(bg: Background, b: Box): number {
  let s = 0, n = 0;
  for (let y = Math.max(0, Math.floor(b.y)); y < Math.min(bg.height, b.y + b.h); y += 2) {
    for (let x = Math.max(0, Math.floor(b.x)); x < Math.min(bg.width, b.x + b.w); x += 2) { s += bg.grey[y * bg.width + x]; n++; }
  }
  return n ? s / n : 0;
}

/** One line of text: an optional label then the PHI value, at a place and contrast chosen by r. */
interface Line { label: string; value: string; field: PhiString['field'] | null; han: boolean }

function phiLines(r: () => number, id: Identity): Line[] {
  const lines: Line[] = [];
  const nameStyle = r();
  if (nameStyle < 0.3) lines.push({ label: pick(r, ['', 'Name: ', 'Patient: ']), value: `${id.surname}^${id.given}`, field: 'name', han: false });
  else if (nameStyle < 0.55) lines.push({ label: pick(r, ['', 'Name: ']), value: `${title(id.surname)} ${title(id.given)}`, field: 'name', han: false });
  else if (nameStyle < 0.7) lines.push({ label: '', value: `${id.surname}, ${id.given}`, field: 'name', han: false });
  else lines.push({ label: pick(r, ['', '姓名: ', '姓名：']), value: `${id.hanSurname}${id.hanGiven}`, field: 'name', han: true });
  if (r() < 0.8) lines.push({ label: pick(r, ['ID: ', 'ID ', 'PID: ', 'MRN: ', '', '病历号: ']), value: id.patientId, field: 'id', han: false });
  if (r() < 0.7) {
    const han = r() < 0.2;
    lines.push({ label: han ? '出生日期: ' : pick(r, ['DOB: ', 'Birth: ', '', 'D.O.B. ']), value: printedDate(r, id.birthDate, han), field: 'date', han });
  }
  if (r() < 0.4) lines.push({ label: pick(r, ['', 'Date: ', 'Exam ']), value: printedDate(r, id.studyDate, false), field: 'date', han: false });
  if (r() < 0.35) {
    const han = r() < 0.4;
    lines.push({ label: '', value: han ? id.hanInstitution : id.institution, field: 'institution', han });
  }
  if (r() < 0.25) lines.push({ label: pick(r, ['Acc: ', 'Accession ']), value: id.accession, field: 'id', han: false });
  return lines;
}

/** Orientation markers and scale bars: text a redactor must leave alone. */
function drawHarmless(g: SKRSContext2D, r: () => number, bg: Background, colour: string, boxes: Box[]): void {
  const size = Math.round(14 + r() * 14);
  g.font = `${size}px "${pick(r, LATIN_FONTS)[0]}"`;
  g.fillStyle = colour;
  const marks = pick(r, [['R', 'L'], ['A', 'P'], ['L'], ['R'], ['H', 'F']]);
  marks.forEach((m, i) => {
    const x = i === 0 ? Math.round(bg.width * 0.04) : Math.round(bg.width * 0.93);
    const y = Math.round(bg.height / 2);
    g.fillText(m, x, y);
    boxes.push({ x, y: y - size, w: size, h: size * 1.3 });
  });
  if (r() < 0.7) {
    // A scale bar with its length, bottom right.
    const len = Math.round(bg.width * 0.15), x = Math.round(bg.width * 0.78), y = Math.round(bg.height * 0.94);
    g.fillRect(x, y, len, 2);
    for (let t = 0; t <= 5; t++) g.fillRect(x + Math.round((t * len) / 5), y - 5, 1, 5);
    const label = pick(r, ['5 cm', '10 mm', '1 cm', '50 mm']);
    g.font = `${Math.round(size * 0.8)}px "${pick(r, LATIN_FONTS)[0]}"`;
    g.fillText(label, x, y - 8);
    boxes.push({ x, y: y - 8 - size, w: len, h: size + 12 });
  }
}

function writeDicom(img: { width: number; height: number; data: Uint8Array; colour: boolean }, modality: string, id: Identity, r: () => number, index: number): Buffer {
  const sc = modality === 'SC';
  const sopClass = modality === 'US' ? '1.2.840.10008.5.1.4.1.1.6.1' : sc ? '1.2.840.10008.5.1.4.1.1.7' : modality === 'CT' ? '1.2.840.10008.5.1.4.1.1.2' : modality === 'MR' ? '1.2.840.10008.5.1.4.1.1.4' : '1.2.840.10008.5.1.4.1.1.1';
  const uid = (k: number) => `1.2.826.0.1.3680043.10.1199.${index}.${k}`;
  const spp = img.colour ? 3 : 1;
  const pixels = new Uint8Array(img.width * img.height * spp);
  for (let i = 0; i < img.width * img.height; i++) for (let s = 0; s < spp; s++) pixels[i * spp + s] = img.data[i];
  const ds: DicomDataset = {
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080016': { vr: 'UI', Value: [sopClass] },
    '00080018': { vr: 'UI', Value: [uid(3)] },
    '00080020': { vr: 'DA', Value: [id.studyDate] },
    '00080050': { vr: 'SH', Value: [id.accession] },
    '00080060': { vr: 'CS', Value: [sc ? 'OT' : modality] },
    '00080080': { vr: 'LO', Value: [r() < 0.5 ? id.institution : id.hanInstitution] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `${id.surname}^${id.given}`, Ideographic: `${id.hanSurname}^${id.hanGiven}` }] },
    '00100020': { vr: 'LO', Value: [id.patientId] },
    '00100030': { vr: 'DA', Value: [id.birthDate] },
    '0020000D': { vr: 'UI', Value: [uid(1)] },
    '0020000E': { vr: 'UI', Value: [uid(2)] },
    '00280002': { vr: 'US', Value: [spp] },
    '00280004': { vr: 'CS', Value: [img.colour ? 'RGB' : 'MONOCHROME2'] },
    ...(img.colour ? { '00280006': { vr: 'US', Value: [0] } } : {}),
    '00280010': { vr: 'US', Value: [img.height] },
    '00280011': { vr: 'US', Value: [img.width] },
    '00280100': { vr: 'US', Value: [8] },
    '00280101': { vr: 'US', Value: [8] },
    '00280102': { vr: 'US', Value: [7] },
    '00280103': { vr: 'US', Value: [0] },
    '7FE00010': { vr: 'OB', Value: [pixels.buffer] },
  };
  return writePart10(ds, { '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.10.1199'] } });
}

export interface CorpusSize { phi: number; clean: number; harmless: number }

/** Builds the corpus for a seed: `size.phi` images with PHI text, `size.clean` without text, `size.harmless` with harmless annotations only. */
export async function buildCorpus(seed: number, size: CorpusSize): Promise<CorpusImage[]> {
  registerFonts();
  const r = rng(seed);
  const pool = await backgrounds(r);
  const kinds: CorpusImage['kind'][] = [...Array(size.phi).fill('phi'), ...Array(size.clean).fill('clean'), ...Array(size.harmless).fill('harmless')];
  const out: CorpusImage[] = [];
  for (const [i, kind] of kinds.entries()) {
    const bg = pool[i % pool.length];
    const id = identity(r);
    const c = createCanvas(bg.width, bg.height);
    const g = c.getContext('2d');
    const data = g.createImageData(bg.width, bg.height);
    for (let p = 0; p < bg.grey.length; p++) { data.data[4 * p] = data.data[4 * p + 1] = data.data[4 * p + 2] = bg.grey[p]; data.data[4 * p + 3] = 255; }
    g.putImageData(data, 0, 0);
    const ink = createCanvas(bg.width, bg.height);
    const ig = ink.getContext('2d');
    ig.fillStyle = '#000';
    ig.fillRect(0, 0, bg.width, bg.height);
    const phi: PhiString[] = [];
    const harmless: Box[] = [];
    const scale = Math.max(bg.width, bg.height) / 512;
    if (kind === 'phi') {
      const lines = phiLines(r, id);
      // Where the block goes: the usual top-left/top-right/bottom corners, or anywhere, over anatomy.
      const where = pick(r, ['top-left', 'top-right', 'bottom-left', 'anywhere', 'top-left', 'bottom-right']);
      const size = Math.round((9 + r() * 19) * scale);
      const lineH = Math.round(size * 1.35);
      let y = where.startsWith('top') ? Math.round(size * 1.4) : where.startsWith('bottom') ? bg.height - lineH * lines.length : Math.round(size + r() * (bg.height - lineH * lines.length - size));
      const contrast = pick(r, [200, 150, 110, 80, 60]);
      for (const line of lines) {
        const family = line.han || /[^\x00-\x7f]/.test(line.label) ? HAN_FONT[0] : pick(r, LATIN_FONTS)[0];
        g.font = ig.font = `${size}px "${family}"`;
        const full = line.label + line.value;
        const width = g.measureText(full).width;
        const x = where.endsWith('right') ? Math.round(bg.width - width - size * 0.6) : where === 'anywhere' ? Math.round(r() * Math.max(1, bg.width - width - 4)) : Math.round(size * 0.6);
        const labelW = g.measureText(line.label).width;
        const valueW = g.measureText(line.value).width;
        const box = { x: x + labelW, y: y - size, w: valueW, h: size * 1.3 };
        const around = meanAround(bg, { x, y: y - size, w: width, h: size * 1.3 });
        // Light text on dark ground, dark text on light ground, at the chosen contrast.
        const level = Math.max(0, Math.min(255, Math.round(around < 128 ? around + contrast : around - contrast)));
        g.fillStyle = `rgb(${level},${level},${level})`;
        g.fillText(full, x, y);
        ig.fillStyle = '#fff';
        ig.fillText(line.value, x + labelW, y);
        phi.push({ value: line.value, field: line.field!, han: line.han, box, font: family, size, contrast });
        y += lineH;
      }
    }
    if (kind === 'harmless' || (kind === 'phi' && r() < 0.5)) drawHarmless(g, r, bg, 'rgb(230,230,230)', harmless);
    const rgba = g.getImageData(0, 0, bg.width, bg.height).data;
    const grey = new Uint8Array(bg.width * bg.height);
    for (let p = 0; p < grey.length; p++) grey[p] = rgba[4 * p];
    const inkRgba = ig.getImageData(0, 0, bg.width, bg.height).data;
    const inkMask = new Uint8Array(bg.width * bg.height);
    for (let p = 0; p < inkMask.length; p++) inkMask[p] = inkRgba[4 * p] > 96 ? 1 : 0;
    // Text-bearing CT/MR/CR pictures are what secondary capture carries; ultrasound stays US.
    const modality = bg.modality === 'US' ? 'US' : kind === 'phi' && r() < 0.6 ? 'SC' : bg.modality;
    out.push({
      id: `${String(i).padStart(3, '0')}-${kind}-${bg.name}`, kind, source: bg.name, modality, width: bg.width, height: bg.height,
      part10: writeDicom({ width: bg.width, height: bg.height, data: grey, colour: bg.colour }, modality, id, r, i),
      phi, harmless, ink: inkMask,
    });
  }
  return out;
}
