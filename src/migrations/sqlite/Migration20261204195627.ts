import { Migration } from '@mikro-orm/migrations';

// The archive secret's fingerprint (src/ingest/secret.ts).
export class Migration20261204195627 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`archive_key_check\` (\`name\` text not null, \`fingerprint\` text not null, \`recorded_at\` datetime not null, primary key (\`name\`));`);
  }

}
