import { Migration } from '@mikro-orm/migrations';

// The in-process run's lease on its submission (src/ingest/runLease.ts): two hubs asked to process
// one submission at once ran it twice, and each quarantined files the other had just catalogued.
export class Migration20261204192410 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`submission\` add \`run_owner\` varchar(64) null, add \`run_heartbeat_at\` datetime null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`submission\` drop column \`run_owner\`, drop column \`run_heartbeat_at\`;`);
  }

}
