import { Migration } from '@mikro-orm/migrations';

// Each collection's UIDs are remapped under a key of its own (src/ingest/uidKey.ts). A collection
// that already held images, or files identified under the archive secret, keeps that secret
// (ARCHIVE): its later files must meet the same UIDs.
export class Migration20261204230000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`collection\` add column \`uid_scope\` text not null default 'COLLECTION';`);
    this.addSql(`update \`collection\` set \`uid_scope\` = 'ARCHIVE' where \`id\` in (select \`collection_id\` from \`series\`) or \`id\` in (select s.\`collection_id\` from \`submission\` s join \`submission_file\` f on f.\`submission_id\` = s.\`id\` where f.\`image_uid\` is not null);`);
  }

}
