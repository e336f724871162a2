import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { ReviewDecision } from '../../src/access/AccessRequestService.js';
import { AuditEvent } from '../../src/entities/index.js';
import { Connection } from '../types/connection.js';

registerEnumType(ReviewDecision, {
  name: 'ReviewDecision', description: 'The data owner\'s decision on a pending access request.',
  valuesConfig: {
    APPROVE: { description: 'Grant the requester the collection\'s files.' },
    REJECT: { description: 'Refuse the request.' },
  },
});

export enum DownloadFormat { DICOM_ZIP = 'DICOM_ZIP' }
registerEnumType(DownloadFormat, {
  name: 'DownloadFormat', description: 'DICOM_ZIP: the de-identified DICOM files in a zip, with manifest.json (accessions, UIDs, sha256).',
  valuesConfig: {
    DICOM_ZIP: { description: 'The de-identified DICOM files in a zip, with manifest.json (accessions, UIDs, sha256).' },
  },
});

@InputType({ description: 'What a researcher tells the data owner when asking for a controlled collection\'s files.' })
export class AccessRequestInput {
  @Field({ description: 'What the data will be used for.' })
  purpose!: string;

  @Field({ description: 'Scope of use: who will handle the data, where, and for how long.' })
  scopeOfUse!: string;

  @Field({ description: 'The requester\'s institution.' })
  institution!: string;

  @Field({ description: 'Must be true: the requester pledges not to attempt to re-identify anyone in the data.' })
  pledgeNotToReidentify!: boolean;
}

@InputType({ description: 'What to download: exactly one of a collection accession, a study accession or a SeriesInstanceUID.' })
export class DownloadTargetInput {
  @Field(() => String, { nullable: true, description: 'Collection accession (OBIA + 4 digits).' })
  collection?: string | null;

  @Field(() => String, { nullable: true, description: 'Study accession (S + 8 digits).' })
  study?: string | null;

  @Field(() => String, { nullable: true, description: 'De-identified SeriesInstanceUID.' })
  series?: string | null;
}

@ObjectType({ description: 'A signed download link, bound to the user who made it and valid until expiresAt.' })
export class DownloadLink {
  @Field({ description: 'GET it with the same bearer token; single images are under the same path at images/<SOPInstanceUID>.dcm, resumable with Range.' })
  url!: string;

  @Field({ description: 'After this instant the link answers 403; ask for a new one.' })
  expiresAt!: Date;
}

export const AuditEventConnection = Connection(AuditEvent, 'AuditEvent');
