import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed: the generator also re-declared unchanged columns (a MikroORM comparator quirk).
export class Migration20261122013222 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`patient_mapping\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`patient_key\` varchar(64) not null, \`individual_id\` int unsigned not null, \`created_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`patient_mapping\` add index \`patient_mapping_individual_id_index\`(\`individual_id\`);`);
    this.addSql(`alter table \`patient_mapping\` add unique \`patient_mapping_collection_id_patient_key_unique\`(\`collection_id\`, \`patient_key\`);`);

    this.addSql(`create table \`submission\` (\`id\` int unsigned not null auto_increment primary key, \`title\` varchar(500) not null, \`description\` text not null default (''), \`keywords\` json not null, \`disease\` varchar(200) not null, \`accessibility\` enum('OPEN', 'CONTROLLED') not null default 'OPEN', \`bio_project_accession\` varchar(32) null, \`deid_options\` json not null, \`submitter\` varchar(200) not null, \`state\` enum('OPEN', 'PROCESSING', 'PROCESSED') not null default 'OPEN', \`collection_id\` int unsigned not null, \`created_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`submission\` add index \`submission_submitter_index\`(\`submitter\`);`);
    this.addSql(`alter table \`submission\` add index \`submission_collection_id_index\`(\`collection_id\`);`);

    this.addSql(`create table \`clinical_record\` (\`id\` int unsigned not null auto_increment primary key, \`submission_id\` int unsigned not null, \`patient_key\` varchar(64) not null, \`sex\` enum('FEMALE', 'MALE', 'OTHER', 'UNKNOWN') not null default 'UNKNOWN', \`age\` int null, \`species\` varchar(100) not null default 'Homo sapiens', \`disease\` varchar(200) null, \`pathological_type\` varchar(200) null, \`medical_history\` text null, \`family_history\` text null, \`treatment\` text null, \`applied\` tinyint(1) not null default false) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`clinical_record\` add unique \`clinical_record_submission_id_patient_key_unique\`(\`submission_id\`, \`patient_key\`);`);

    this.addSql(`create table \`submission_file\` (\`id\` int unsigned not null auto_increment primary key, \`submission_id\` int unsigned not null, \`original_name\` varchar(500) not null, \`staging_path\` varchar(500) not null, \`size\` bigint not null, \`sha256\` varchar(64) not null, \`state\` enum('RECEIVED', 'PARSED', 'DEIDENTIFIED', 'STORED', 'INDEXED', 'QUARANTINED', 'DUPLICATE') not null default 'RECEIVED', \`quarantine_reason\` varchar(64) null, \`quarantine_message\` text null, \`held_for_pixel_review\` varchar(500) null, \`patient_key\` varchar(64) null, \`image_uid\` varchar(64) null, \`stored_sha256\` varchar(64) null, \`thumbnail_sha256\` varchar(64) null, \`received_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`submission_file\` add index \`submission_file_image_uid_index\`(\`image_uid\`);`);
    this.addSql(`alter table \`submission_file\` add index \`submission_file_submission_id_state_index\`(\`submission_id\`, \`state\`);`);

    this.addSql(`alter table \`patient_mapping\` add constraint \`patient_mapping_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`patient_mapping\` add constraint \`patient_mapping_individual_id_foreign\` foreign key (\`individual_id\`) references \`individual\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`submission\` add constraint \`submission_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`clinical_record\` add constraint \`clinical_record_submission_id_foreign\` foreign key (\`submission_id\`) references \`submission\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`submission_file\` add constraint \`submission_file_submission_id_foreign\` foreign key (\`submission_id\`) references \`submission\` (\`id\`) on update cascade;`);

  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`clinical_record\` drop foreign key \`clinical_record_submission_id_foreign\`;`);

    this.addSql(`alter table \`submission_file\` drop foreign key \`submission_file_submission_id_foreign\`;`);

    this.addSql(`drop table if exists \`patient_mapping\`;`);

    this.addSql(`drop table if exists \`submission\`;`);

    this.addSql(`drop table if exists \`clinical_record\`;`);

    this.addSql(`drop table if exists \`submission_file\`;`);

  }

}
