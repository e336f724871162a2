import { Migration } from '@mikro-orm/migrations';

// The in-process run's lease on its submission (src/ingest/runLease.ts).
export class Migration20261204192409 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`submission\` add column \`run_owner\` text null;`);
    this.addSql(`alter table \`submission\` add column \`run_heartbeat_at\` datetime null;`);
  }

}
