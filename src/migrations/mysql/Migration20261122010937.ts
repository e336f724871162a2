import { Migration } from '@mikro-orm/migrations';

export class Migration20261122010937 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`accession_counter\` (\`kind\` varchar(16) not null, \`next_value\` int not null, primary key (\`kind\`)) default character set utf8mb4 engine = InnoDB;`);

    this.addSql(`create table \`collection\` (\`id\` int unsigned not null auto_increment primary key, \`accession\` varchar(16) not null, \`title\` varchar(500) not null, \`description\` text not null default (''), \`keywords\` json not null, \`search_text\` text not null default (''), \`disease\` varchar(200) not null, \`submitter\` varchar(200) not null, \`submitter_organization\` varchar(300) null, \`accessibility\` enum('OPEN', 'CONTROLLED') not null default 'OPEN', \`release_state\` enum('DRAFT', 'IN_REVIEW', 'RELEASED') not null default 'DRAFT', \`bio_project_accession\` varchar(32) null, \`created_at\` datetime not null, \`released_at\` datetime null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`collection\` add unique \`collection_accession_unique\`(\`accession\`);`);
    this.addSql(`alter table \`collection\` add index \`collection_disease_index\`(\`disease\`);`);
    this.addSql(`alter table \`collection\` add index \`collection_submitter_index\`(\`submitter\`);`);
    this.addSql(`alter table \`collection\` add index \`collection_accessibility_index\`(\`accessibility\`);`);
    this.addSql(`alter table \`collection\` add index \`collection_bio_project_accession_index\`(\`bio_project_accession\`);`);
    this.addSql(`alter table \`collection\` add index \`collection_release_state_accessibility_index\`(\`release_state\`, \`accessibility\`);`);

    this.addSql(`create table \`individual\` (\`id\` int unsigned not null auto_increment primary key, \`accession\` varchar(16) not null, \`collection_id\` int unsigned not null, \`sex\` enum('FEMALE', 'MALE', 'OTHER', 'UNKNOWN') not null default 'UNKNOWN', \`age\` int null, \`species\` varchar(100) not null default 'Homo sapiens', \`disease\` varchar(200) null, \`pathological_type\` varchar(200) null, \`medical_history\` text null, \`family_history\` text null, \`treatment\` text null, \`gsa_human_accession\` varchar(32) null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`individual\` add unique \`individual_accession_unique\`(\`accession\`);`);
    this.addSql(`alter table \`individual\` add index \`individual_sex_index\`(\`sex\`);`);
    this.addSql(`alter table \`individual\` add index \`individual_disease_index\`(\`disease\`);`);
    this.addSql(`alter table \`individual\` add index \`individual_gsa_human_accession_index\`(\`gsa_human_accession\`);`);
    this.addSql(`alter table \`individual\` add index \`individual_age_index\`(\`age\`);`);
    this.addSql(`alter table \`individual\` add index \`individual_collection_id_id_index\`(\`collection_id\`, \`id\`);`);

    this.addSql(`create table \`study\` (\`id\` int unsigned not null auto_increment primary key, \`accession\` varchar(16) not null, \`study_instance_uid\` varchar(64) not null, \`individual_id\` int unsigned not null, \`collection_id\` int unsigned not null, \`description\` varchar(500) null, \`study_date\` varchar(10) null, \`age_at_study\` int null, \`modalities\` json not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`study\` add unique \`study_accession_unique\`(\`accession\`);`);
    this.addSql(`alter table \`study\` add unique \`study_study_instance_uid_unique\`(\`study_instance_uid\`);`);
    this.addSql(`alter table \`study\` add index \`study_individual_id_index\`(\`individual_id\`);`);
    this.addSql(`alter table \`study\` add index \`study_collection_id_index\`(\`collection_id\`);`);

    this.addSql(`create table \`series\` (\`id\` int unsigned not null auto_increment primary key, \`uid\` varchar(64) not null, \`study_id\` int unsigned not null, \`individual_id\` int unsigned not null, \`collection_id\` int unsigned not null, \`modality\` varchar(16) not null, \`anatomical_site\` varchar(32) null, \`description\` varchar(500) null, \`series_number\` int null, \`image_count\` int not null default 0) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`series\` add unique \`series_uid_unique\`(\`uid\`);`);
    this.addSql(`alter table \`series\` add index \`series_study_id_index\`(\`study_id\`);`);
    this.addSql(`alter table \`series\` add index \`series_individual_id_index\`(\`individual_id\`);`);
    this.addSql(`alter table \`series\` add index \`series_collection_id_index\`(\`collection_id\`);`);
    this.addSql(`alter table \`series\` add index \`series_collection_id_modality_index\`(\`collection_id\`, \`modality\`);`);
    this.addSql(`alter table \`series\` add index \`series_anatomical_site_id_index\`(\`anatomical_site\`, \`id\`);`);
    this.addSql(`alter table \`series\` add index \`series_modality_anatomical_site_id_index\`(\`modality\`, \`anatomical_site\`, \`id\`);`);

    this.addSql(`create table \`image\` (\`id\` int unsigned not null auto_increment primary key, \`uid\` varchar(64) not null, \`series_id\` int unsigned not null, \`sop_class_uid\` varchar(64) null, \`instance_number\` int null, \`rows\` int null, \`columns\` int null, \`frames\` int not null default 1, \`bits_allocated\` int null, \`transfer_syntax_uid\` varchar(64) not null, \`sha256\` varchar(64) not null, \`size\` bigint not null, \`hash_code\` varchar(16) null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`image\` add unique \`image_uid_unique\`(\`uid\`);`);
    this.addSql(`alter table \`image\` add index \`image_sha256_index\`(\`sha256\`);`);
    this.addSql(`alter table \`image\` add index \`image_series_id_id_index\`(\`series_id\`, \`id\`);`);

    this.addSql(`alter table \`individual\` add constraint \`individual_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`study\` add constraint \`study_individual_id_foreign\` foreign key (\`individual_id\`) references \`individual\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`study\` add constraint \`study_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`series\` add constraint \`series_study_id_foreign\` foreign key (\`study_id\`) references \`study\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`series\` add constraint \`series_individual_id_foreign\` foreign key (\`individual_id\`) references \`individual\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`series\` add constraint \`series_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);

    this.addSql(`alter table \`image\` add constraint \`image_series_id_foreign\` foreign key (\`series_id\`) references \`series\` (\`id\`) on update cascade;`);

    // Counters start at 1 for every accession kind (hand-added: the generator knows only the schema).
    this.addSql(`insert into \`accession_counter\` (\`kind\`, \`next_value\`) values ('collection', 1), ('individual', 1), ('study', 1);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`individual\` drop foreign key \`individual_collection_id_foreign\`;`);

    this.addSql(`alter table \`study\` drop foreign key \`study_collection_id_foreign\`;`);

    this.addSql(`alter table \`series\` drop foreign key \`series_collection_id_foreign\`;`);

    this.addSql(`alter table \`study\` drop foreign key \`study_individual_id_foreign\`;`);

    this.addSql(`alter table \`series\` drop foreign key \`series_individual_id_foreign\`;`);

    this.addSql(`alter table \`series\` drop foreign key \`series_study_id_foreign\`;`);

    this.addSql(`alter table \`image\` drop foreign key \`image_series_id_foreign\`;`);

    this.addSql(`drop table if exists \`accession_counter\`;`);

    this.addSql(`drop table if exists \`collection\`;`);

    this.addSql(`drop table if exists \`individual\`;`);

    this.addSql(`drop table if exists \`study\`;`);

    this.addSql(`drop table if exists \`series\`;`);

    this.addSql(`drop table if exists \`image\`;`);
  }

}
