import { resolveCombined, type Action, type ProfileRule } from './profile';
import { loadRuleTable } from './ruleTables';
import { stripPadding } from '../dicom/values';

const iodData = loadRuleTable<{ modules: unknown; iods: unknown }>('iod_requirements.json');

/** An attribute's Type in an IOD (PS3.3): 1 required with a value, 2 required (may be empty), 3 optional. */
export type AttributeType = '1' | '1C' | '2' | '2C' | '3';

/** What de-identification needs to know of one IOD: the Type of the combined-code attributes. */
export interface IodRequirements {
  name: string;
  /** The strictest Type the IOD's modules give the attribute; null when none names it (optional or foreign to the IOD). */
  typeOf(tag: string): AttributeType | null;
}

const STRICTNESS: Record<AttributeType, number> = { '1': 4, '1C': 3, '2': 2, '2C': 1, '3': 0 };

const bySopClass = new Map<string, IodRequirements>();
const modules = iodData.modules as Record<string, Record<string, AttributeType>>;
for (const [name, iod] of Object.entries(iodData.iods as Record<string, { sopClasses: string[]; modules: string[] }>)) {
  const types = new Map<string, AttributeType>();
  for (const module of iod.modules) {
    const attributes = modules[module];
    if (!attributes) throw new Error(`iod_requirements.json: IOD ${name} names an unknown module ${module}`);
    for (const [tag, type] of Object.entries(attributes)) {
      const was = types.get(tag);
      if (!was || STRICTNESS[type] > STRICTNESS[was]) types.set(tag, type);
    }
  }
  const requirements: IodRequirements = { name, typeOf: (tag) => types.get(tag) ?? null };
  for (const uid of iod.sopClasses) bySopClass.set(uid, requirements);
}

/** The requirements of the IOD a SOP Class UID names, or null for an IOD the data does not cover. */
export function iodRequirements(sopClassUid: string | null | undefined): IodRequirements | null {
  return sopClassUid ? bySopClass.get(stripPadding(sopClassUid)) ?? null : null;
}

/**
 * A combined code (X/Z, X/D, Z/D, X/Z/D) resolved for the IOD at hand, as PS3.15 E.1.1 reads
 * them: D where the IOD makes the attribute Type 1, Z where Type 2, and X (removed) where it is
 * optional or not part of the IOD, since an attribute that is not there carries nothing and an
 * empty Type 3 attribute (a sequence of zero items above all) is invalid. Each falls back to
 * the next choice the code allows. U* (keep the sequence, clean its items) stays as it is:
 * remapped references are valid whatever the Type.
 */
export function resolveForIod(rule: ProfileRule, tag: string, iod: IodRequirements): Action {
  if (!rule.code.includes('/') || rule.action === 'U') return rule.action;
  const allowed = rule.code.split('/');
  const type = iod.typeOf(tag);
  const preference: Action[] = type === '1' || type === '1C' ? ['D', 'Z', 'X'] : type === '2' || type === '2C' ? ['Z', 'D', 'X'] : ['X', 'Z', 'D'];
  return preference.find((a) => allowed.includes(a)) ?? resolveCombined(rule.code, tag);
}
