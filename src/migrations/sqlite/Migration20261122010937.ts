import { Migration } from '@mikro-orm/migrations';

export class Migration20261122010937 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`accession_counter\` (\`kind\` text not null, \`next_value\` integer not null, primary key (\`kind\`));`);

    this.addSql(`create table \`collection\` (\`id\` integer not null primary key autoincrement, \`accession\` text not null, \`title\` text not null, \`description\` text not null default '', \`keywords\` json not null, \`search_text\` text not null default '', \`disease\` text not null, \`submitter\` text not null, \`submitter_organization\` text null, \`accessibility\` text check (\`accessibility\` in ('OPEN', 'CONTROLLED')) not null default 'OPEN', \`release_state\` text check (\`release_state\` in ('DRAFT', 'IN_REVIEW', 'RELEASED')) not null default 'DRAFT', \`bio_project_accession\` text null, \`created_at\` datetime not null, \`released_at\` datetime null);`);
    this.addSql(`create unique index \`collection_accession_unique\` on \`collection\` (\`accession\`);`);
    this.addSql(`create index \`collection_disease_index\` on \`collection\` (\`disease\`);`);
    this.addSql(`create index \`collection_submitter_index\` on \`collection\` (\`submitter\`);`);
    this.addSql(`create index \`collection_accessibility_index\` on \`collection\` (\`accessibility\`);`);
    this.addSql(`create index \`collection_bio_project_accession_index\` on \`collection\` (\`bio_project_accession\`);`);
    this.addSql(`create index \`collection_release_state_accessibility_index\` on \`collection\` (\`release_state\`, \`accessibility\`);`);

    this.addSql(`create table \`individual\` (\`id\` integer not null primary key autoincrement, \`accession\` text not null, \`collection_id\` integer not null, \`sex\` text check (\`sex\` in ('FEMALE', 'MALE', 'OTHER', 'UNKNOWN')) not null default 'UNKNOWN', \`age\` integer null, \`species\` text not null default 'Homo sapiens', \`disease\` text null, \`pathological_type\` text null, \`medical_history\` text null, \`family_history\` text null, \`treatment\` text null, \`gsa_human_accession\` text null, constraint \`individual_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`individual_accession_unique\` on \`individual\` (\`accession\`);`);
    this.addSql(`create index \`individual_sex_index\` on \`individual\` (\`sex\`);`);
    this.addSql(`create index \`individual_disease_index\` on \`individual\` (\`disease\`);`);
    this.addSql(`create index \`individual_gsa_human_accession_index\` on \`individual\` (\`gsa_human_accession\`);`);
    this.addSql(`create index \`individual_age_index\` on \`individual\` (\`age\`);`);
    this.addSql(`create index \`individual_collection_id_id_index\` on \`individual\` (\`collection_id\`, \`id\`);`);

    this.addSql(`create table \`study\` (\`id\` integer not null primary key autoincrement, \`accession\` text not null, \`study_instance_uid\` text not null, \`individual_id\` integer not null, \`collection_id\` integer not null, \`description\` text null, \`study_date\` text null, \`age_at_study\` integer null, \`modalities\` json not null, constraint \`study_individual_id_foreign\` foreign key(\`individual_id\`) references \`individual\`(\`id\`) on update cascade, constraint \`study_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`study_accession_unique\` on \`study\` (\`accession\`);`);
    this.addSql(`create unique index \`study_study_instance_uid_unique\` on \`study\` (\`study_instance_uid\`);`);
    this.addSql(`create index \`study_individual_id_index\` on \`study\` (\`individual_id\`);`);
    this.addSql(`create index \`study_collection_id_index\` on \`study\` (\`collection_id\`);`);

    this.addSql(`create table \`series\` (\`id\` integer not null primary key autoincrement, \`uid\` text not null, \`study_id\` integer not null, \`individual_id\` integer not null, \`collection_id\` integer not null, \`modality\` text not null, \`anatomical_site\` text null, \`description\` text null, \`series_number\` integer null, \`image_count\` integer not null default 0, constraint \`series_study_id_foreign\` foreign key(\`study_id\`) references \`study\`(\`id\`) on update cascade, constraint \`series_individual_id_foreign\` foreign key(\`individual_id\`) references \`individual\`(\`id\`) on update cascade, constraint \`series_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`series_uid_unique\` on \`series\` (\`uid\`);`);
    this.addSql(`create index \`series_study_id_index\` on \`series\` (\`study_id\`);`);
    this.addSql(`create index \`series_individual_id_index\` on \`series\` (\`individual_id\`);`);
    this.addSql(`create index \`series_collection_id_index\` on \`series\` (\`collection_id\`);`);
    this.addSql(`create index \`series_collection_id_modality_index\` on \`series\` (\`collection_id\`, \`modality\`);`);
    this.addSql(`create index \`series_anatomical_site_id_index\` on \`series\` (\`anatomical_site\`, \`id\`);`);
    this.addSql(`create index \`series_modality_anatomical_site_id_index\` on \`series\` (\`modality\`, \`anatomical_site\`, \`id\`);`);

    this.addSql(`create table \`image\` (\`id\` integer not null primary key autoincrement, \`uid\` text not null, \`series_id\` integer not null, \`sop_class_uid\` text null, \`instance_number\` integer null, \`rows\` integer null, \`columns\` integer null, \`frames\` integer not null default 1, \`bits_allocated\` integer null, \`transfer_syntax_uid\` text not null, \`sha256\` text not null, \`size\` bigint not null, \`hash_code\` text null, constraint \`image_series_id_foreign\` foreign key(\`series_id\`) references \`series\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`image_uid_unique\` on \`image\` (\`uid\`);`);
    this.addSql(`create index \`image_sha256_index\` on \`image\` (\`sha256\`);`);
    this.addSql(`create index \`image_series_id_id_index\` on \`image\` (\`series_id\`, \`id\`);`);

    // Counters start at 1 for every accession kind (hand-added: the generator knows only the schema).
    this.addSql(`insert into \`accession_counter\` (\`kind\`, \`next_value\`) values ('collection', 1), ('individual', 1), ('study', 1);`);
  }

}
