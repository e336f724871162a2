import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed: the generator also rebuilt unchanged tables (a MikroORM comparator quirk).
export class Migration20261122013221 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`patient_mapping\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`patient_key\` text not null, \`individual_id\` integer not null, \`created_at\` datetime not null, constraint \`patient_mapping_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade, constraint \`patient_mapping_individual_id_foreign\` foreign key(\`individual_id\`) references \`individual\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`patient_mapping_individual_id_index\` on \`patient_mapping\` (\`individual_id\`);`);
    this.addSql(`create unique index \`patient_mapping_collection_id_patient_key_unique\` on \`patient_mapping\` (\`collection_id\`, \`patient_key\`);`);

    this.addSql(`create table \`submission\` (\`id\` integer not null primary key autoincrement, \`title\` text not null, \`description\` text not null default '', \`keywords\` json not null, \`disease\` text not null, \`accessibility\` text check (\`accessibility\` in ('OPEN', 'CONTROLLED')) not null default 'OPEN', \`bio_project_accession\` text null, \`deid_options\` json not null, \`submitter\` text not null, \`state\` text check (\`state\` in ('OPEN', 'PROCESSING', 'PROCESSED')) not null default 'OPEN', \`collection_id\` integer not null, \`created_at\` datetime not null, constraint \`submission_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`submission_submitter_index\` on \`submission\` (\`submitter\`);`);
    this.addSql(`create index \`submission_collection_id_index\` on \`submission\` (\`collection_id\`);`);

    this.addSql(`create table \`clinical_record\` (\`id\` integer not null primary key autoincrement, \`submission_id\` integer not null, \`patient_key\` text not null, \`sex\` text check (\`sex\` in ('FEMALE', 'MALE', 'OTHER', 'UNKNOWN')) not null default 'UNKNOWN', \`age\` integer null, \`species\` text not null default 'Homo sapiens', \`disease\` text null, \`pathological_type\` text null, \`medical_history\` text null, \`family_history\` text null, \`treatment\` text null, \`applied\` integer not null default false, constraint \`clinical_record_submission_id_foreign\` foreign key(\`submission_id\`) references \`submission\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`clinical_record_submission_id_patient_key_unique\` on \`clinical_record\` (\`submission_id\`, \`patient_key\`);`);

    this.addSql(`create table \`submission_file\` (\`id\` integer not null primary key autoincrement, \`submission_id\` integer not null, \`original_name\` text not null, \`staging_path\` text not null, \`size\` bigint not null, \`sha256\` text not null, \`state\` text check (\`state\` in ('RECEIVED', 'PARSED', 'DEIDENTIFIED', 'STORED', 'INDEXED', 'QUARANTINED', 'DUPLICATE')) not null default 'RECEIVED', \`quarantine_reason\` text null, \`quarantine_message\` text null, \`held_for_pixel_review\` text null, \`patient_key\` text null, \`image_uid\` text null, \`stored_sha256\` text null, \`thumbnail_sha256\` text null, \`received_at\` datetime not null, constraint \`submission_file_submission_id_foreign\` foreign key(\`submission_id\`) references \`submission\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`submission_file_image_uid_index\` on \`submission_file\` (\`image_uid\`);`);
    this.addSql(`create index \`submission_file_submission_id_state_index\` on \`submission_file\` (\`submission_id\`, \`state\`);`);
  }

  override async down(): Promise<void> {
    for (const table of ['submission_file', 'clinical_record', 'submission', 'patient_mapping']) this.addSql(`drop table if exists \`${table}\`;`);
  }

}
