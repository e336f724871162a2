import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed to the release tables (issue 19): on SQLite the generator also rebuilt untouched
// tables (a MikroORM comparator quirk).
export class Migration20261202065024 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`collection_dataset\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`dataset_id\` text not null, \`repository\` text not null, \`declared_by\` text not null, \`declared_at\` datetime not null, constraint \`collection_dataset_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`collection_dataset_dataset_id_index\` on \`collection_dataset\` (\`dataset_id\`);`);
    this.addSql(`create unique index \`collection_dataset_collection_id_dataset_id_unique\` on \`collection_dataset\` (\`collection_id\`, \`dataset_id\`);`);

    this.addSql(`create table \`collection_version\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`number\` integer not null, \`created_at\` datetime not null, \`created_by\` text not null, \`image_count\` integer not null, \`series_count\` integer not null, \`total_size\` bigint not null, \`manifest_sha256\` text not null, \`bundle_sha256\` text not null, \`added_count\` integer not null, \`withdrawn_count\` integer not null, \`identifier_kind\` text check (\`identifier_kind\` in ('DOI', 'LOCAL', 'MINT_PENDING')) not null, \`identifier\` text not null, \`data_cite\` json not null, constraint \`collection_version_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`collection_version_collection_id_number_unique\` on \`collection_version\` (\`collection_id\`, \`number\`);`);

    this.addSql(`create table \`image_tombstone\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`sop_instance_uid\` text not null, \`series_instance_uid\` text not null, \`study_accession\` text not null, \`individual_accession\` text not null, \`sha256\` text not null, \`size\` bigint not null, \`reason\` text check (\`reason\` in ('QUALITY', 'PATIENT_SAFETY', 'INCORRECT_WORKLIST_ENTRY', 'RETENTION_EXPIRED', 'IDENTIFIABLE_INFORMATION', 'SUBMITTER_REQUEST')) not null, \`note\` text not null, \`withdrawn_by\` text not null, \`withdrawn_at\` datetime not null, \`first_absent_from\` integer null, constraint \`image_tombstone_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`image_tombstone_sop_instance_uid_unique\` on \`image_tombstone\` (\`sop_instance_uid\`);`);
    this.addSql(`create index \`image_tombstone_collection_id_id_index\` on \`image_tombstone\` (\`collection_id\`, \`id\`);`);

    this.addSql(`create table \`release_manifest_entry\` (\`id\` integer not null primary key autoincrement, \`version_id\` integer not null, \`sop_instance_uid\` text not null, \`series_instance_uid\` text not null, \`study_instance_uid\` text not null, \`study_accession\` text not null, \`individual_accession\` text not null, \`modality\` text null, \`sha256\` text not null, \`size\` bigint not null, constraint \`release_manifest_entry_version_id_foreign\` foreign key(\`version_id\`) references \`collection_version\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`release_manifest_entry_sop_instance_uid_index\` on \`release_manifest_entry\` (\`sop_instance_uid\`);`);
    this.addSql(`create index \`release_manifest_entry_version_id_series_instance_uid_index\` on \`release_manifest_entry\` (\`version_id\`, \`series_instance_uid\`);`);
    this.addSql(`create index \`release_manifest_entry_version_id_id_index\` on \`release_manifest_entry\` (\`version_id\`, \`id\`);`);
  }

}
