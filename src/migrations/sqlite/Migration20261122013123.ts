import { Migration } from '@mikro-orm/migrations';

// Hand-trimmed: the generator also re-declared unchanged columns (a MikroORM comparator quirk).
export class Migration20261122013123 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index \`series_statistics_index\` on \`series\` (\`collection_id\`, \`modality\`, \`anatomical_site\`, \`individual_id\`, \`study_id\`, \`image_count\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index \`series_statistics_index\`;`);
  }

}
