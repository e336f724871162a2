import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed to the QC tables (issue 4): on SQLite the generator also rebuilt untouched
// tables (a MikroORM comparator quirk).
export class Migration20261122014922 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`series_review\` (\`id\` integer not null primary key autoincrement, \`series_id\` integer not null, \`verdict\` text check (\`verdict\` in ('PASS', 'FAIL')) not null, \`note\` text not null default '', \`reviewer\` text not null, \`reviewed_at\` datetime not null, constraint \`series_review_series_id_foreign\` foreign key(\`series_id\`) references \`series\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`series_review_series_id_unique\` on \`series_review\` (\`series_id\`);`);
    this.addSql(`create table \`qc_event\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`submission_id\` integer null, \`kind\` text check (\`kind\` in ('QUARANTINED', 'DUPLICATE', 'SERIES_PASSED', 'SERIES_FAILED', 'REPAIR_REQUESTED', 'REPROCESSED', 'DISCARDED', 'RELEASE_REFUSED', 'RELEASED')) not null, \`subject\` text not null, \`actor\` text not null, \`reason\` text null, \`message\` text not null default '', \`at\` datetime not null, constraint \`qc_event_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade, constraint \`qc_event_submission_id_foreign\` foreign key(\`submission_id\`) references \`submission\`(\`id\`) on delete set null on update cascade);`);
    this.addSql(`create index \`qc_event_collection_id_id_index\` on \`qc_event\` (\`collection_id\`, \`id\`);`);
    this.addSql(`create index \`qc_event_submission_id_id_index\` on \`qc_event\` (\`submission_id\`, \`id\`);`);
    this.addSql(`create table \`submission_census\` (\`id\` integer not null primary key autoincrement, \`submission_id\` integer not null, \`census\` json not null, \`counted_files\` json not null, \`updated_at\` datetime not null, constraint \`submission_census_submission_id_foreign\` foreign key(\`submission_id\`) references \`submission\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`submission_census_submission_id_unique\` on \`submission_census\` (\`submission_id\`);`);
    this.addSql(`create table \`file_curation\` (\`id\` integer not null primary key autoincrement, \`file_id\` integer not null, \`repair_request\` text null, \`repair_requested_by\` text null, \`repair_requested_at\` datetime null, \`resolution\` text check (\`resolution\` in ('REPROCESS', 'DISCARD')) null, \`resolved_by\` text null, \`resolved_at\` datetime null, constraint \`file_curation_file_id_foreign\` foreign key(\`file_id\`) references \`submission_file\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`file_curation_file_id_unique\` on \`file_curation\` (\`file_id\`);`);
  }

}
