// The tables de-identification decides by are a verified read: loaded only when their sha256 is
// the pinned one (src/deid/ruleTables.ts). One rule turned from "remove" to "keep" still parses;
// before, the archive would have de-identified every file after it with the attribute left in,
// and the de-identification tests, which build their expectations from the same tables, would
// have agreed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRuleTable, PINNED_RULE_TABLES, RULE_TABLES_DIR, RuleTableIntegrityError, type RuleTable } from '../../src/deid/ruleTables';
import { noDatabase } from '../support/once.js';

noDatabase('reads the de-identification rule tables');

const ROOT = path.resolve(__dirname, '../../..');
const SHARED = path.resolve(process.cwd(), '../shared/deid');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('de-identification rule tables', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-rule-tables-'));
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('are the pinned bytes, and the standard\'s tables are exactly the shared copies of PS3.15', () => {
    for (const [name, pin] of Object.entries(PINNED_RULE_TABLES)) {
      assert.equal(sha256(fs.readFileSync(path.join(RULE_TABLES_DIR, name))), pin, name);
    }
    for (const name of ['table_e1_1.json', 'table_e3_10_1_safe_private_2020b.json', 'cid7050_deidentification_method.json'] as const) {
      assert.ok(fs.readFileSync(path.join(SHARED, name)).equals(fs.readFileSync(path.join(RULE_TABLES_DIR, name))), `${name} is the shared copy`);
    }
  });

  it('refuses a table with one rule turned from remove to keep, though it parses', () => {
    const text = fs.readFileSync(path.join(RULE_TABLES_DIR, 'table_e1_1.json'), 'utf8');
    const rows = JSON.parse(text) as { id: string; basicProfile: string }[];
    const otherNames = rows.find((r) => r.id === '00101001')!;
    assert.equal(otherNames.basicProfile, 'X', 'Other Patient Names is removed by the Basic Profile');
    const altered = text.replace(/("tag":"\(0010,1001\)",[^}]*"basicProfile":")X"/, '$1K"');
    assert.notEqual(altered, text);
    assert.equal((JSON.parse(altered) as typeof rows).find((r) => r.id === '00101001')!.basicProfile, 'K', 'the altered table still parses');
    fs.writeFileSync(path.join(scratch, 'table_e1_1.json'), altered);
    assert.throws(() => loadRuleTable('table_e1_1.json', scratch), (err: unknown) => {
      assert.ok(err instanceof RuleTableIntegrityError);
      assert.equal(err.actual, sha256(Buffer.from(altered)));
      assert.match(err.message, /does not match the pinned one/);
      return true;
    });
    // The pinned copy loads, parsed from the bytes checked.
    assert.equal(loadRuleTable<typeof rows>('table_e1_1.json').length, rows.length);
  });

  it('are read by de-identification only through the pin', () => {
    // Each table is named once, in src/deid/ruleTables.ts; no module imports one itself.
    const tables = Object.keys(PINNED_RULE_TABLES) as RuleTable[];
    const sources = fs.readdirSync(path.join(ROOT, 'src/deid'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts'))
      .map((f) => ({ f, text: fs.readFileSync(path.join(ROOT, 'src/deid', f), 'utf8') }));
    for (const { f, text } of sources) assert.doesNotMatch(text, /from '\.\.?\/(?:\.\.\/)*data\/[^']+\.json'/, `${f} imports a rule table without its pin`);
    const loaded = tables.filter((t) => sources.some(({ text }) => new RegExp(`loadRuleTable<[^(]*>\\('${t.replace(/\./g, '\\.')}'\\)`).test(text)));
    assert.deepEqual(loaded, tables, 'every pinned table is loaded by a de-identification module');
  });
});
