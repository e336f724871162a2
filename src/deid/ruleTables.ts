import fs from 'node:fs';
import path from 'node:path';
import { sha256Hex } from '../storage/BlobStore.js';

/** src/deid/data at the repository root (this file runs from dist/src/deid). */
export const RULE_TABLES_DIR = path.resolve(__dirname, '../../../src/deid/data');

/**
 * The sha256 of each table de-identification decides by (PS3.15 Table E.1-1 and E.3.10-1, CID
 * 7050, the IOD requirements, the burned-in pixel rules). The tables are the archive's most
 * dangerous configuration: a row turned from "remove" to "keep" still parses, de-identifies
 * every file after it with a name left in, and no test would notice — the de-identification
 * tests build their expectations from the same tables. So they are a verified read, as stored
 * files and the hash model are: pinned in the code (not in a manifest beside them, which a
 * replaced data folder would bring along), checked on load, never used otherwise. Changing a
 * table is a reviewed change to this constant; test/deid/ruleTables checks the pins against the
 * files and the standard's tables in ../shared/deid.
 */
export const PINNED_RULE_TABLES = {
  'table_e1_1.json': 'a99a35d1278e2bace8d90ff791b11aea2d45f1e3e1230388eb5224c9dbcd29e6',
  'table_e3_10_1_safe_private_2020b.json': '55dd9ca298499769a0a3a5ef9a14512e1a847d3377a00e31b7e2f91c23352386',
  'cid7050_deidentification_method.json': 'e823d7fe6ad8832fd35b90ec599bd8e469fed70fa421d352b379c05ceb31f243',
  'iod_requirements.json': 'b95d3263b48d87584897573b77707952af2469806d98240983c532c32546b20a',
  'pixel_rules.json': '216beb1bc3521572e53d1a67731f755993133e81de228d766187f5a167f92dc2',
} as const;

export type RuleTable = keyof typeof PINNED_RULE_TABLES;

/** A rule table whose bytes are not the pinned ones: de-identification does not run on it. */
export class RuleTableIntegrityError extends Error {
  override readonly name = 'RuleTableIntegrityError';
  constructor(readonly file: string, readonly actual: string) {
    super(`de-identification rule table ${file}: its sha256 ${actual} does not match the pinned one; the archive will not de-identify by it`);
  }
}

/**
 * A rule table, parsed from the very bytes whose digest was checked. Read when a de-identification
 * module loads, so a server whose tables were altered refuses to start rather than archive files
 * de-identified by them.
 */
export function loadRuleTable<T>(name: RuleTable, dir = RULE_TABLES_DIR): T {
  const file = path.join(dir, name);
  const bytes = fs.readFileSync(file);
  const actual = sha256Hex(bytes);
  if (actual !== PINNED_RULE_TABLES[name]) throw new RuleTableIntegrityError(file, actual);
  return JSON.parse(bytes.toString('utf8')) as T;
}
