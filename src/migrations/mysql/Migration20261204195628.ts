import { Migration } from '@mikro-orm/migrations';

// The archive secret's fingerprint (src/ingest/secret.ts): a hub, worker or CLI started with
// another secret (an emptied key file, another keys directory) is refused before it maps a patient.
export class Migration20261204195628 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`archive_key_check\` (\`name\` varchar(32) not null, \`fingerprint\` varchar(64) not null, \`recorded_at\` datetime not null, primary key (\`name\`)) default character set utf8mb4 engine = InnoDB;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`archive_key_check\`;`);
  }

}
