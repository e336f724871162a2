import { Migration } from '@mikro-orm/migrations';

// Issue 20: the burned-in text check's record (src/ingest/products/burnedInText.ts) on the image.
export class Migration20261202083100 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`image\` add \`burned_in_text\` json null;`);
  }

}
