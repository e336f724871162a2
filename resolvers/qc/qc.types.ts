import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Collection } from '../../src/entities/index.js';
import { QcEventKind } from '../../src/entities/QcEvent.js';

export enum ReviewState {
  UNREVIEWED = 'UNREVIEWED',
  /** Some series reviewed, none failed. */
  IN_REVIEW = 'IN_REVIEW',
  PASSED = 'PASSED',
  FAILED = 'FAILED',
}
registerEnumType(ReviewState, {
  name: 'ReviewState', description: 'Curators\' visual review of a series, or of all series of a study.',
  valuesConfig: {
    UNREVIEWED: { description: 'No curator has looked at it yet.' },
    IN_REVIEW: { description: 'Some of its series are reviewed, not all.' },
    PASSED: { description: 'Every series passed.' },
    FAILED: { description: 'At least one series failed.' },
  },
});

@InputType({ description: 'What a submitter supplies to repair a quarantined file; each given field overwrites that attribute in a copy of the file.' })
export class RepairInput {
  @Field({ nullable: true, description: 'The local patient ID the file belongs to (for MISSING_PATIENT_ID or MIXED_PATIENTS).' }) patientId?: string;
  @Field({ description: 'The StudyInstanceUID the file should carry, when it had none.', nullable: true }) studyInstanceUid?: string;
  @Field({ description: 'The SeriesInstanceUID the file should carry, when it had none.', nullable: true }) seriesInstanceUid?: string;
}

@ObjectType('ReleaseBlocker', { description: 'One reason a collection cannot be released yet.' })
export class ReleaseBlockerView {
  @Field({ description: 'PROCESSING, UNRESOLVED_QUARANTINE, UNREVIEWED_SERIES, FAILED_SERIES, HELD_FOR_PIXEL_REVIEW or EMPTY.' }) reason!: string;
  @Field(() => Int, { description: 'How many series or files it concerns.' }) count!: number;
  @Field({ description: 'What to do about it, in words.' }) message!: string;
}

@ObjectType('ReleaseOutcome', { description: 'What releaseCollection did: released, or refused with the reasons.' })
export class ReleaseOutcomeView {
  @Field({ description: 'Whether the collection is now RELEASED.' }) released!: boolean;
  @Field(() => Collection, { description: 'The collection, as it is after the attempt.' }) collection!: Collection;
  @Field(() => [ReleaseBlockerView], { description: 'Why release was refused; empty when released.' }) blockers!: ReleaseBlockerView[];
}

@ObjectType('TagCensusEntry', { description: 'A tag seen in a submission\'s de-identified files (the archive\'s TagSniffer).' })
export class TagCensusEntryView {
  @Field({ description: '"(gggg,eeee)"; private data elements as "(gggg,xxee)" with their creator; nested tags as "(parent)>(child)".' }) tag!: string;
  @Field(() => String, { description: 'The DICOM dictionary keyword (e.g. PatientName); null for private or unknown tags.', nullable: true }) keyword!: string | null;
  @Field({ description: 'The value representation seen (e.g. LO, PN, DA).' }) vr!: string;
  @Field(() => String, { description: 'The private creator of a private tag\'s block; null for public tags.', nullable: true }) privateCreator!: string | null;
  @Field(() => Int, { description: 'Files carrying the tag.' }) files!: number;
  @Field(() => Int, { description: 'Distinct values; a lower bound when distinctValuesCapped.' }) distinctValues!: number;
  @Field({ description: 'Whether counting distinct values stopped at the cap (distinctValues is then a lower bound).' }) distinctValuesCapped!: boolean;
  @Field(() => [String], { description: 'The first few distinct values, each cut to 64 characters.' }) sampleValues!: string[];
  @Field({ description: 'Has a character-string VR (or is UN bytes that read as text).' }) textValued!: boolean;
  @Field({ description: 'Table E.1-1 names it and the profile\'s options kept (K) or cleaned (C) it, or a private element kept as safe or numeric.' }) retained!: boolean;
}

@ObjectType('QcSummary', { description: 'Quality-control state of a submission and of the collection it fills.' })
export class QcSummaryView {
  @Field(() => Int, { description: 'Files quarantined by the pipeline, resolved or not.' }) quarantined!: number;
  @Field(() => Int, { description: 'Quarantined files neither reprocessed nor discarded.' }) unresolvedQuarantined!: number;
  @Field(() => Int, { description: 'Files set aside as duplicates of another (by UID or by pixels), kept once.' }) duplicates!: number;
  @Field(() => [ReleaseBlockerView], { description: 'Why the collection cannot be released yet (empty: it can).' }) releaseBlockers!: ReleaseBlockerView[];
}

@ObjectType({ description: 'A QC decision as announced over the qcEvents subscription.' })
export class QcEventNotice {
  @Field(() => ID, { description: 'The submission it concerns.' }) submissionId!: number;
  @Field(() => QcEventKind, { description: 'What was decided.' }) kind!: QcEventKind;
  @Field({ description: 'What it concerns: a file\'s received name, a SeriesInstanceUID or a collection accession.' }) subject!: string;
  @Field({ description: 'What happened and why, in words, without attribute values.' }) message!: string;
  @Field({ description: 'When the decision was made.' }) at!: Date;
}
