import type { DicomDataset, DicomElement } from '../dicom/dcmjs';
import { dictionaryKeyword } from '../dicom/dcmjs';
import { stripPadding } from '../dicom/values';
import { shiftDate, shiftDateTime } from './dates';
import { resolveForIod, type IodRequirements } from './iod';
import type { Action, Profile } from './profile';
import { blockKey, creatorsOf, isPrivateCreatorElement, isPrivateGroup, isPurelyNumeric, isSafePrivate } from './privateTags';
import type { DeidAction, DeidContext } from './types';
import { isDefinitionUidTag, isWellKnownUid, remapUid } from './uids';

export interface CleanEnv {
  profile: Profile;
  /** The Types the dataset's IOD gives the combined-code attributes; null for an IOD src/deid/data/iod_requirements.json does not cover. */
  iod: IodRequirements | null;
  ctx: DeidContext;
  actions: DeidAction[];
  datesShifted: boolean;
}

const TEXT_VRS = new Set(['LO', 'SH', 'ST', 'LT', 'UT', 'UC', 'PN', 'CS', 'UR']);
const BINARY_NUMERIC_VRS = new Set(['US', 'SS', 'UL', 'SL', 'UV', 'SV', 'FL', 'FD']);

// Non-zero dummies (action D) that carry nothing and satisfy the VR.
const DUMMY_TEXT: Record<string, string> = {
  PN: 'ANONYMOUS', LO: 'ANONYMOUS', SH: 'ANONYMOUS', ST: 'ANONYMOUS', LT: 'ANONYMOUS', UT: 'ANONYMOUS',
  UC: 'ANONYMOUS', CS: 'ANONYMOUS', AE: 'ANONYMOUS', UR: 'urn:anonymous', DA: '19000101', DT: '19000101000000.000000',
  TM: '000000', AS: '000Y', IS: '0', DS: '0',
};

const PATIENT_NAME = '00100010';
const PATIENT_ID = '00100020';

function record(env: CleanEnv, path: string, tag: string, action: string): void {
  env.actions.push({ tag: path + tag, keyword: dictionaryKeyword(tag), action });
}

function textValue(vr: string, s: string): unknown {
  return vr === 'PN' ? { Alphabetic: s } : s;
}

function emptied(el: DicomElement): DicomElement {
  return { vr: el.vr, Value: [] };
}

function dummy(el: DicomElement): DicomElement {
  if (BINARY_NUMERIC_VRS.has(el.vr)) return { vr: el.vr, Value: [0] };
  const text = DUMMY_TEXT[el.vr];
  return text === undefined ? emptied(el) : { vr: el.vr, Value: [textValue(el.vr, text)] };
}

function remapValues(el: DicomElement, env: CleanEnv): DicomElement {
  const values = (el.Value ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const uid = stripPadding(v);
    return uid === '' || isWellKnownUid(uid) ? uid : remapUid(uid, env.ctx.secret);
  });
  return { vr: el.vr, Value: values };
}

function shiftValues(el: DicomElement, env: CleanEnv): DicomElement | null {
  const shift = el.vr === 'DA' ? shiftDate : shiftDateTime;
  const out: unknown[] = [];
  for (const v of el.Value ?? []) {
    if (typeof v !== 'string') return null;
    const s = shift(v, env.ctx.dateOffsetDays);
    if (s === null) return null;
    out.push(s);
  }
  env.datesShifted = true;
  return { vr: el.vr, Value: out };
}

function cleanItems(el: DicomElement, env: CleanEnv, path: string, tag: string): DicomElement {
  const items = (el.Value ?? []).filter((i): i is DicomDataset => typeof i === 'object' && i !== null);
  items.forEach((item, n) => cleanDataset(item, env, `${path}${tag}[${n}].`));
  return { vr: el.vr, Value: items };
}

/** Applies one resolved action; returns the replacement element or null to remove it. */
function apply(action: Action, basicCode: string, el: DicomElement, env: CleanEnv, path: string, tag: string): { el: DicomElement | null; label: string } {
  const vr = el.vr;
  switch (action) {
    case 'X':
      return { el: null, label: 'X removed' };
    case 'Z':
      return { el: emptied(el), label: 'Z emptied' };
    case 'K':
      return vr === 'SQ' ? { el: cleanItems(el, env, path, tag), label: 'K kept, items cleaned' } : { el, label: 'K kept' };
    case 'U':
      if (vr === 'UI') return { el: remapValues(el, env), label: 'U uid remapped' };
      if (vr === 'SQ') return { el: cleanItems(el, env, path, tag), label: 'U items cleaned' };
      return { el: emptied(el), label: 'U non-UID emptied' };
    case 'D':
      if (vr === 'SQ') return { el: cleanItems(el, env, path, tag), label: 'D items cleaned' };
      if (vr === 'UI') return { el: remapValues(el, env), label: 'D uid remapped' };
      if ((vr === 'DA' || vr === 'DT') && env.profile.options.retainLongitudinalModifiedDates) {
        const shifted = shiftValues(el, env);
        if (shifted) return { el: shifted, label: 'D date shifted' };
      }
      return { el: dummy(el), label: 'D dummy' };
    case 'C':
      if (vr === 'SQ') return { el: cleanItems(el, env, path, tag), label: 'C items cleaned' };
      if (vr === 'DA' || vr === 'DT') {
        const shifted = shiftValues(el, env);
        return shifted ? { el: shifted, label: 'C date shifted' } : { el: emptied(el), label: 'C unreadable date emptied' };
      }
      // Shifting whole days leaves the time of day unchanged and non-identifying.
      if (vr === 'TM') return { el, label: 'C time kept' };
      if (vr === 'UI') return { el: remapValues(el, env), label: 'C uid remapped' };
      if (vr === 'AE') return { el: { vr, Value: ['DEIDENTIFIED'] }, label: 'C AE title replaced' };
      // Free text cannot be proven free of names, so "clean" empties it: the descriptor
      // stays present (valid for Type 2) with nothing identifying in it. Where the Basic
      // Profile says D the attribute must not be empty (Type 1), so it gets a neutral word.
      if (TEXT_VRS.has(vr) && basicCode.split('/').includes('D')) return { el: { vr, Value: [textValue(vr, 'CLEANED')] }, label: 'C text replaced' };
      if (TEXT_VRS.has(vr) || vr === 'UN' || vr === 'OB' || vr === 'OW') return { el: emptied(el), label: 'C text emptied' };
      return { el, label: 'C kept (non-text)' };
  }
}

function cleanPrivate(ds: DicomDataset, env: CleanEnv, path: string): void {
  const creators = creatorsOf(ds);
  const usedBlocks = new Set<string>();
  for (const tag of Object.keys(ds)) {
    const group = parseInt(tag.slice(0, 4), 16);
    const element = parseInt(tag.slice(4, 8), 16);
    if (!isPrivateGroup(group) || isPrivateCreatorElement(element)) continue;
    const el = ds[tag];
    const block = blockKey(group, element);
    const creator = element >= 0x1000 ? creators.get(block) : undefined;
    if (env.profile.options.retainSafePrivate && isSafePrivate(group, element, creator)) {
      if (el.vr === 'SQ') ds[tag] = cleanItems(el, env, path, tag);
      usedBlocks.add(block);
      record(env, path, tag, 'C safe private kept');
    } else if (element >= 0x1000 && creator !== undefined && isPurelyNumeric(el)) {
      usedBlocks.add(block);
      record(env, path, tag, 'K numeric private kept');
    } else {
      delete ds[tag];
      record(env, path, tag, 'X private removed');
    }
  }
  for (const tag of Object.keys(ds)) {
    const group = parseInt(tag.slice(0, 4), 16);
    const element = parseInt(tag.slice(4, 8), 16);
    if (isPrivateGroup(group) && isPrivateCreatorElement(element) && !usedBlocks.has(blockKey(group, element))) {
      delete ds[tag];
      record(env, path, tag, 'X unused private creator removed');
    }
  }
}

/** Overlay Data is removed by the profile; the rest of its Overlay Plane group would then describe nothing and fail IOD checks. */
function dropRemovedOverlayGroups(ds: DicomDataset, env: CleanEnv, path: string): void {
  const groups = new Set<string>();
  for (const tag of Object.keys(ds)) {
    if (/^60[0-9A-F]{2}3000$/.test(tag) && env.profile.ruleFor(tag)?.action === 'X') groups.add(tag.slice(0, 4));
  }
  for (const tag of Object.keys(ds)) {
    if (groups.has(tag.slice(0, 4))) {
      delete ds[tag];
      record(env, path, tag, 'X overlay group removed');
    }
  }
}

/** Cleans one dataset (top level or a sequence item) in place, recursing into sequences. */
export function cleanDataset(ds: DicomDataset, env: CleanEnv, path = ''): void {
  dropRemovedOverlayGroups(ds, env, path);
  for (const tag of Object.keys(ds)) {
    const group = parseInt(tag.slice(0, 4), 16);
    const element = parseInt(tag.slice(4, 8), 16);
    if (isPrivateGroup(group)) continue;
    const el = ds[tag];
    if (element === 0x0000 || group === 0x0002) {
      // Group lengths are optional and would be stale; file meta is rebuilt by the writer.
      delete ds[tag];
      continue;
    }
    if (tag === PATIENT_ID || tag === PATIENT_NAME) {
      ds[tag] = { vr: el.vr, Value: [textValue(el.vr, env.ctx.individualAccession)] };
      record(env, path, tag, 'D replaced with individual accession');
      continue;
    }
    const rule = env.profile.ruleFor(tag);
    if (rule) {
      // The IOD's module tables describe the top level; inside a sequence item the attribute's
      // Type depends on the macro, so items keep the IOD-blind resolution.
      const action = path === '' && env.iod ? resolveForIod(rule, tag, env.iod) : rule.action;
      const { el: out, label } = apply(action, rule.basicCode, el, env, path, tag);
      if (out === null) delete ds[tag];
      else ds[tag] = out;
      const why = action !== rule.action ? ` (${env.iod!.typeOf(tag) ? `Type ${env.iod!.typeOf(tag)}` : 'optional'} in ${env.iod!.name})` : '';
      record(env, path, tag, rule.code === action ? label : `${rule.code}→${label}${why}`);
      continue;
    }
    if (el.vr === 'SQ') {
      ds[tag] = cleanItems(el, env, path, tag);
    } else if (el.vr === 'UI' && !isDefinitionUidTag(tag)) {
      // A UID the table does not name is still likely an instance UID (a reference, a new
      // attribute): remapping keeps references consistent and leaks nothing.
      const before = JSON.stringify(el.Value ?? []);
      const out = remapValues(el, env);
      if (JSON.stringify(out.Value) !== before) {
        ds[tag] = out;
        record(env, path, tag, 'U uid remapped (not in table)');
      }
    }
  }
  cleanPrivate(ds, env, path);
}
