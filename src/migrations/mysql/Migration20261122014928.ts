import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed to the QC tables (issue 4): the generator also re-declared unchanged columns
// and constraints of other tables (a MikroORM comparator quirk).
export class Migration20261122014928 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`series_review\` (\`id\` int unsigned not null auto_increment primary key, \`series_id\` int unsigned not null, \`verdict\` enum('PASS', 'FAIL') not null, \`note\` text not null default (''), \`reviewer\` varchar(200) not null, \`reviewed_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`series_review\` add unique \`series_review_series_id_unique\`(\`series_id\`);`);
    this.addSql(`create table \`qc_event\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`submission_id\` int unsigned null, \`kind\` enum('QUARANTINED', 'DUPLICATE', 'SERIES_PASSED', 'SERIES_FAILED', 'REPAIR_REQUESTED', 'REPROCESSED', 'DISCARDED', 'RELEASE_REFUSED', 'RELEASED') not null, \`subject\` varchar(200) not null, \`actor\` varchar(200) not null, \`reason\` varchar(64) null, \`message\` text not null default (''), \`at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`qc_event\` add index \`qc_event_collection_id_id_index\`(\`collection_id\`, \`id\`);`);
    this.addSql(`alter table \`qc_event\` add index \`qc_event_submission_id_id_index\`(\`submission_id\`, \`id\`);`);
    this.addSql(`create table \`submission_census\` (\`id\` int unsigned not null auto_increment primary key, \`submission_id\` int unsigned not null, \`census\` json not null, \`counted_files\` json not null, \`updated_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`submission_census\` add unique \`submission_census_submission_id_unique\`(\`submission_id\`);`);
    this.addSql(`create table \`file_curation\` (\`id\` int unsigned not null auto_increment primary key, \`file_id\` int unsigned not null, \`repair_request\` text null, \`repair_requested_by\` varchar(200) null, \`repair_requested_at\` datetime null, \`resolution\` enum('REPROCESS', 'DISCARD') null, \`resolved_by\` varchar(200) null, \`resolved_at\` datetime null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`file_curation\` add unique \`file_curation_file_id_unique\`(\`file_id\`);`);
    this.addSql(`alter table \`series_review\` add constraint \`series_review_series_id_foreign\` foreign key (\`series_id\`) references \`series\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`qc_event\` add constraint \`qc_event_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`qc_event\` add constraint \`qc_event_submission_id_foreign\` foreign key (\`submission_id\`) references \`submission\` (\`id\`) on update cascade on delete set null;`);
    this.addSql(`alter table \`submission_census\` add constraint \`submission_census_submission_id_foreign\` foreign key (\`submission_id\`) references \`submission\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`file_curation\` add constraint \`file_curation_file_id_foreign\` foreign key (\`file_id\`) references \`submission_file\` (\`id\`) on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`file_curation\`;`);
    this.addSql(`drop table if exists \`submission_census\`;`);
    this.addSql(`drop table if exists \`qc_event\`;`);
    this.addSql(`drop table if exists \`series_review\`;`);
  }

}
