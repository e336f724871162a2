import { createHmac } from 'node:crypto';
import { stripPadding } from '../dicom/values';

/**
 * Deterministic replacement UID: HMAC-SHA256 of the source UID under the archive secret,
 * first 128 bits as a decimal under the 2.25 root (the UUID-derived arc of PS3.5 B.2).
 * Same input and secret give the same UID in every file, so references stay consistent;
 * without the secret the source UID cannot be recovered or tested for.
 */
export function remapUid(uid: string, secret: string): string {
  const clean = stripPadding(uid).trim();
  const digest = createHmac('sha256', secret).update(`uid:${clean}`).digest();
  const n = BigInt('0x' + digest.subarray(0, 16).toString('hex'));
  return `2.25.${n.toString(10)}`;
}

// Attributes whose UIDs name a class, syntax or coding resource, never an instance.
const DEFINITION_UID_TAGS = new Set<string>([
  '00020002', // Media Storage SOP Class UID
  '00020010', // Transfer Syntax UID
  '00020012', // Implementation Class UID
  '00041510', // Referenced SOP Class UID in File
  '00041512', // Referenced Transfer Syntax UID in File
  '00080016', // SOP Class UID
  '0008001A', // Related General SOP Class UID
  '0008001B', // Original Specialized SOP Class UID
  '00080062', // SOP Classes in Study
  '0008010C', // Coding Scheme UID
  '0008010D', // Context Group Extension Creator UID
  '00080117', // Context UID
  '00080118', // Mapping Resource UID
  '00081150', // Referenced SOP Class UID
  '00081090', // (LO, never UI; harmless)
  '0040DB0D', // Template Extension Creator UID
  '0040A504', // (Content Template Sequence carries no UI; harmless)
  '00720514', // (harmless)
]);

/** Well-known UIDs (SOP classes, transfer syntaxes, coding schemes) are public: never remap them. */
export function isWellKnownUid(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.');
}

export function isDefinitionUidTag(tag: string): boolean {
  return DEFINITION_UID_TAGS.has(tag);
}
