import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed to the release tables (issue 19): the generator also re-declared unchanged columns
// and constraints of other tables (a MikroORM comparator quirk).
export class Migration20261202065030 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`collection_dataset\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`dataset_id\` varchar(255) not null, \`repository\` varchar(64) not null, \`declared_by\` varchar(200) not null, \`declared_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`collection_dataset\` add index \`collection_dataset_dataset_id_index\`(\`dataset_id\`);`);
    this.addSql(`alter table \`collection_dataset\` add unique \`collection_dataset_collection_id_dataset_id_unique\`(\`collection_id\`, \`dataset_id\`);`);

    this.addSql(`create table \`collection_version\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`number\` int not null, \`created_at\` datetime not null, \`created_by\` varchar(200) not null, \`image_count\` int not null, \`series_count\` int not null, \`total_size\` bigint not null, \`manifest_sha256\` varchar(64) not null, \`bundle_sha256\` varchar(64) not null, \`added_count\` int not null, \`withdrawn_count\` int not null, \`identifier_kind\` enum('DOI', 'LOCAL', 'MINT_PENDING') not null, \`identifier\` varchar(200) not null, \`data_cite\` json not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`collection_version\` add unique \`collection_version_collection_id_number_unique\`(\`collection_id\`, \`number\`);`);

    this.addSql(`create table \`image_tombstone\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`sop_instance_uid\` varchar(64) not null, \`series_instance_uid\` varchar(64) not null, \`study_accession\` varchar(16) not null, \`individual_accession\` varchar(16) not null, \`sha256\` varchar(64) not null, \`size\` bigint not null, \`reason\` enum('QUALITY', 'PATIENT_SAFETY', 'INCORRECT_WORKLIST_ENTRY', 'RETENTION_EXPIRED', 'IDENTIFIABLE_INFORMATION', 'SUBMITTER_REQUEST') not null, \`note\` text not null, \`withdrawn_by\` varchar(200) not null, \`withdrawn_at\` datetime not null, \`first_absent_from\` int null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`image_tombstone\` add unique \`image_tombstone_sop_instance_uid_unique\`(\`sop_instance_uid\`);`);
    this.addSql(`alter table \`image_tombstone\` add index \`image_tombstone_collection_id_id_index\`(\`collection_id\`, \`id\`);`);

    this.addSql(`create table \`release_manifest_entry\` (\`id\` int unsigned not null auto_increment primary key, \`version_id\` int unsigned not null, \`sop_instance_uid\` varchar(64) not null, \`series_instance_uid\` varchar(64) not null, \`study_instance_uid\` varchar(64) not null, \`study_accession\` varchar(16) not null, \`individual_accession\` varchar(16) not null, \`modality\` varchar(16) null, \`sha256\` varchar(64) not null, \`size\` bigint not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`release_manifest_entry\` add index \`release_manifest_entry_sop_instance_uid_index\`(\`sop_instance_uid\`);`);
    this.addSql(`alter table \`release_manifest_entry\` add index \`release_manifest_entry_version_id_series_instance_uid_index\`(\`version_id\`, \`series_instance_uid\`);`);
    this.addSql(`alter table \`release_manifest_entry\` add index \`release_manifest_entry_version_id_id_index\`(\`version_id\`, \`id\`);`);

    this.addSql(`alter table \`collection_dataset\` add constraint \`collection_dataset_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`collection_version\` add constraint \`collection_version_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`image_tombstone\` add constraint \`image_tombstone_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`release_manifest_entry\` add constraint \`release_manifest_entry_version_id_foreign\` foreign key (\`version_id\`) references \`collection_version\` (\`id\`) on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`release_manifest_entry\` drop foreign key \`release_manifest_entry_version_id_foreign\`;`);

    this.addSql(`drop table if exists \`collection_dataset\`;`);

    this.addSql(`drop table if exists \`collection_version\`;`);

    this.addSql(`drop table if exists \`image_tombstone\`;`);

    this.addSql(`drop table if exists \`release_manifest_entry\`;`);
  }

}
