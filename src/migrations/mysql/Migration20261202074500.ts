import { Migration } from '@mikro-orm/migrations';

// Issue 14: the DICOM JSON metadata product (src/ingest/products/dicomJson.ts) keeps its hash on the image.
export class Migration20261202074500 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`image\` add \`metadata_sha256\` varchar(64) null;`);
  }

}
