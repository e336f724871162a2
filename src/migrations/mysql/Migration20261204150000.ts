import { Migration } from '@mikro-orm/migrations';

// A user is the exact subject their token names, and a dataset the exact id a visa names. These
// columns hold subjects and dataset ids, and MariaDB's default
// collation (utf8mb4_general_ci) compares text regardless of case, accents and trailing spaces: a
// token for "ALICE", "alicé" or "alice " matched alice's approved access requests, submissions and
// delegations (SQLite compares exactly), and a visa for dataset "phs1" one declared as "PHS1". utf8mb4_nopad_bin compares the bytes, trailing spaces
// included (utf8mb4_bin pads). Stricter than before, so no unique key can be broken by it.
const EXACT_COLUMNS: [table: string, column: string, length: number, nullable: boolean][] = [
  ['user_account', 'sub', 200, false],
  ['submission', 'submitter', 200, false],
  ['collection', 'submitter', 200, false],
  ['access_request', 'requester', 200, false],
  ['access_request', 'reviewer', 200, true],
  ['collection_delegate', 'user_sub', 200, false],
  ['collection_delegate', 'added_by', 200, false],
  ['collection_dataset', 'dataset_id', 255, false],
  ['collection_dataset', 'declared_by', 200, false],
  ['collection_version', 'created_by', 200, false],
  ['qc_event', 'actor', 200, false],
  ['series_review', 'reviewer', 200, false],
  ['audit_event', 'actor', 200, true],
];

export class Migration20261204150000 extends Migration {

  override async up(): Promise<void> {
    for (const [table, column, length, nullable] of EXACT_COLUMNS) {
      this.addSql(`alter table \`${table}\` modify \`${column}\` varchar(${length}) character set utf8mb4 collate utf8mb4_nopad_bin ${nullable ? 'null' : 'not null'};`);
    }
  }

}
