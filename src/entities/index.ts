import { AccessionCounter } from './AccessionCounter.js';
import { ArchiveKeyCheck } from './ArchiveKeyCheck.js';
import { Collection } from './Collection.js';
import { Image } from './Image.js';
import { Individual } from './Individual.js';
import { Series } from './Series.js';
import { Study } from './Study.js';
import { ClinicalRecord } from './ClinicalRecord.js';
import { PatientMapping } from './PatientMapping.js';
import { Submission } from './Submission.js';
import { SubmissionFile } from './SubmissionFile.js';
import { AccessRequest } from './AccessRequest.js';
import { AuditEvent } from './AuditEvent.js';
import { CollectionDelegate } from './CollectionDelegate.js';
import { User } from './User.js';
import { FileCuration } from './FileCuration.js';
import { QcEvent } from './QcEvent.js';
import { SeriesReview } from './SeriesReview.js';
import { SubmissionCensus } from './SubmissionCensus.js';
import { CollectionDataset } from './CollectionDataset.js';
import { CollectionVersion } from './CollectionVersion.js';
import { ImageTombstone } from './ImageTombstone.js';
import { ReleaseManifestEntry } from './ReleaseManifestEntry.js';

export { AccessionCounter, ArchiveKeyCheck, Collection, Image, Individual, Series, Study };
export { ClinicalRecord, PatientMapping, Submission, SubmissionFile };
export { AccessRequest, AuditEvent, CollectionDelegate, User };
export { FileCuration, QcEvent, SeriesReview, SubmissionCensus };
export { CollectionDataset, CollectionVersion, ImageTombstone, ReleaseManifestEntry };
export { AccessRequestState } from './AccessRequest.js';
export { AuditDecision } from './AuditEvent.js';

/** Every entity the ORM manages; later modules append theirs here. */
export const ENTITIES = [AccessionCounter, Collection, Individual, Study, Series, Image,
  // Submission pipeline (issue 3).
  Submission, SubmissionFile, PatientMapping, ClinicalRecord,
  // Accounts, access requests, delegates and the audit log (issue 5).
  User, AccessRequest, CollectionDelegate, AuditEvent,
  // Quality control and curation (issue 4).
  QcEvent, SeriesReview, FileCuration, SubmissionCensus,
  // Releases, tombstones and GA4GH dataset equivalence (issue 19).
  CollectionVersion, ReleaseManifestEntry, ImageTombstone, CollectionDataset,
  // The archive secret's fingerprint, checked at start-up (src/ingest/secret.ts).
  ArchiveKeyCheck];
