import { Migration } from '@mikro-orm/migrations';

// Issue 22, point 5: refused attempts are counted on one audit row per caller, action,
// collection and window (a unique bucket), so nobody can grow the log without bound.
// Issue 22, point 3: a series is public only once a curator passed it and its collection is
// released. Series already in released collections were reviewed before that release.
export class Migration20261202082800 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`audit_event\` add column \`attempts\` integer not null default 1;`);
    this.addSql(`alter table \`audit_event\` add column \`last_at\` datetime null;`);
    this.addSql(`alter table \`audit_event\` add column \`bucket\` text null;`);
    this.addSql(`create unique index \`audit_event_bucket_unique\` on \`audit_event\` (\`bucket\`);`);
    this.addSql(`alter table \`series\` add column \`published\` integer not null default 0;`);
    this.addSql(`update \`series\` set \`published\` = 1 where \`collection_id\` in (select \`id\` from \`collection\` where \`release_state\` = 'RELEASED');`);
    this.addSql(`drop index \`series_statistics_index\`;`);
    this.addSql(`create index \`series_statistics_index\` on \`series\` (\`collection_id\`, \`modality\`, \`anatomical_site\`, \`individual_id\`, \`study_id\`, \`image_count\`, \`published\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index \`audit_event_bucket_unique\`;`);
    this.addSql(`alter table \`audit_event\` drop column \`bucket\`;`);
    this.addSql(`alter table \`audit_event\` drop column \`last_at\`;`);
    this.addSql(`alter table \`audit_event\` drop column \`attempts\`;`);
    this.addSql(`drop index \`series_statistics_index\`;`);
    this.addSql(`create index \`series_statistics_index\` on \`series\` (\`collection_id\`, \`modality\`, \`anatomical_site\`, \`individual_id\`, \`study_id\`, \`image_count\`);`);
    this.addSql(`alter table \`series\` drop column \`published\`;`);
  }

}
