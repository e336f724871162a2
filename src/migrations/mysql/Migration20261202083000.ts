import { Migration } from '@mikro-orm/migrations';

// Issue 13: a clinical record carries the patient's GSA-Human accession to the Individual (src/ingest/clinicalCsv.ts).
export class Migration20261202083000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`clinical_record\` add \`gsa_human_accession\` varchar(32) null;`);
  }

}
