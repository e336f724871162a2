import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed to the access tables (issue 5): the generator also re-declared unchanged columns
// and, on SQLite, rebuilt untouched tables (a MikroORM comparator quirk).
export class Migration20261122014117 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`audit_event\` (\`id\` integer not null primary key autoincrement, \`at\` datetime not null, \`actor\` text null, \`action\` text not null, \`collection_id\` integer null, \`resource\` text not null, \`decision\` text check (\`decision\` in ('ALLOW', 'DENY')) not null, \`reason\` text not null);`);
    this.addSql(`create index \`audit_event_collection_id_id_index\` on \`audit_event\` (\`collection_id\`, \`id\`);`);
    this.addSql(`create table \`access_request\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`requester\` text not null, \`purpose\` text not null, \`scope_of_use\` text not null, \`institution\` text not null, \`pledge_not_to_reidentify\` integer not null, \`state\` text check (\`state\` in ('PENDING', 'APPROVED', 'REJECTED', 'REVOKED', 'EXPIRED')) not null default 'PENDING', \`decision_note\` text null, \`reviewer\` text null, \`reviewed_at\` datetime null, \`expires_at\` datetime null, \`created_at\` datetime not null, \`updated_at\` datetime not null, constraint \`access_request_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`access_request_requester_collection_id_index\` on \`access_request\` (\`requester\`, \`collection_id\`);`);
    this.addSql(`create index \`access_request_collection_id_state_index\` on \`access_request\` (\`collection_id\`, \`state\`);`);
    this.addSql(`create table \`collection_delegate\` (\`id\` integer not null primary key autoincrement, \`collection_id\` integer not null, \`user_sub\` text not null, \`added_by\` text not null, \`added_at\` datetime not null, constraint \`collection_delegate_collection_id_foreign\` foreign key(\`collection_id\`) references \`collection\`(\`id\`) on update cascade);`);
    this.addSql(`create index \`collection_delegate_user_sub_index\` on \`collection_delegate\` (\`user_sub\`);`);
    this.addSql(`create unique index \`collection_delegate_collection_id_user_sub_unique\` on \`collection_delegate\` (\`collection_id\`, \`user_sub\`);`);
    this.addSql(`create table \`user_account\` (\`id\` integer not null primary key autoincrement, \`sub\` text not null, \`name\` text null, \`email\` text null, \`institution\` text null, \`roles\` json not null, \`first_seen\` datetime not null, \`last_seen\` datetime not null);`);
    this.addSql(`create unique index \`user_account_sub_unique\` on \`user_account\` (\`sub\`);`);
  }

}
