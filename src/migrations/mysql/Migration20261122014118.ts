import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed to the access tables (issue 5): the generator also re-declared unchanged columns
// and, on SQLite, rebuilt untouched tables (a MikroORM comparator quirk).
export class Migration20261122014118 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`audit_event\` (\`id\` int unsigned not null auto_increment primary key, \`at\` datetime not null, \`actor\` varchar(200) null, \`action\` varchar(40) not null, \`collection_id\` int null, \`resource\` varchar(200) not null, \`decision\` enum('ALLOW', 'DENY') not null, \`reason\` varchar(500) not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`audit_event\` add index \`audit_event_collection_id_id_index\`(\`collection_id\`, \`id\`);`);
    this.addSql(`create table \`access_request\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`requester\` varchar(200) not null, \`purpose\` text not null, \`scope_of_use\` text not null, \`institution\` varchar(300) not null, \`pledge_not_to_reidentify\` tinyint(1) not null, \`state\` enum('PENDING', 'APPROVED', 'REJECTED', 'REVOKED', 'EXPIRED') not null default 'PENDING', \`decision_note\` text null, \`reviewer\` varchar(200) null, \`reviewed_at\` datetime null, \`expires_at\` datetime null, \`created_at\` datetime not null, \`updated_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`access_request\` add index \`access_request_requester_collection_id_index\`(\`requester\`, \`collection_id\`);`);
    this.addSql(`alter table \`access_request\` add index \`access_request_collection_id_state_index\`(\`collection_id\`, \`state\`);`);
    this.addSql(`create table \`collection_delegate\` (\`id\` int unsigned not null auto_increment primary key, \`collection_id\` int unsigned not null, \`user_sub\` varchar(200) not null, \`added_by\` varchar(200) not null, \`added_at\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`collection_delegate\` add index \`collection_delegate_user_sub_index\`(\`user_sub\`);`);
    this.addSql(`alter table \`collection_delegate\` add unique \`collection_delegate_collection_id_user_sub_unique\`(\`collection_id\`, \`user_sub\`);`);
    this.addSql(`create table \`user_account\` (\`id\` int unsigned not null auto_increment primary key, \`sub\` varchar(200) not null, \`name\` varchar(300) null, \`email\` varchar(300) null, \`institution\` varchar(300) null, \`roles\` json not null, \`first_seen\` datetime not null, \`last_seen\` datetime not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`user_account\` add unique \`user_account_sub_unique\`(\`sub\`);`);
    this.addSql(`alter table \`access_request\` add constraint \`access_request_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);
    this.addSql(`alter table \`collection_delegate\` add constraint \`collection_delegate_collection_id_foreign\` foreign key (\`collection_id\`) references \`collection\` (\`id\`) on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`audit_event\`;`);
    this.addSql(`drop table if exists \`collection_delegate\`;`);
    this.addSql(`drop table if exists \`access_request\`;`);
    this.addSql(`drop table if exists \`user_account\`;`);
  }

}
