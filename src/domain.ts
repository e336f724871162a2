import { registerEnumType } from 'type-graphql';

/** Vocabularies shared by entities, filters and the seed generator. */

export enum Accessibility {
  OPEN = 'OPEN',
  CONTROLLED = 'CONTROLLED',
}
registerEnumType(Accessibility, {
  name: 'Accessibility',
  description: 'OPEN collections are public once released; CONTROLLED ones show metadata but release files only on an approved access request.',
  valuesConfig: {
    OPEN: { description: 'Files public once the collection is released.' },
    CONTROLLED: { description: 'Metadata public once released; files only on an approved access request.' },
  },
});

export enum ReleaseState {
  DRAFT = 'DRAFT',
  IN_REVIEW = 'IN_REVIEW',
  RELEASED = 'RELEASED',
}
registerEnumType(ReleaseState, {
  name: 'ReleaseState',
  description: 'Where a collection is in curation. Only RELEASED collections are visible to the public.',
  valuesConfig: {
    DRAFT: { description: 'Being submitted; visible to its submitter and curators only.' },
    IN_REVIEW: { description: 'Being curated; visible to its submitter and curators only.' },
    RELEASED: { description: 'Public: its metadata browsable by everyone.' },
  },
});

export enum Sex {
  FEMALE = 'FEMALE',
  MALE = 'MALE',
  OTHER = 'OTHER',
  UNKNOWN = 'UNKNOWN',
}
registerEnumType(Sex, {
  name: 'Sex', description: 'Sex of an individual as recorded in the clinical data.',
  valuesConfig: {
    FEMALE: { description: 'Female.' },
    MALE: { description: 'Male.' },
    OTHER: { description: 'Other (DICOM PatientSex O).' },
    UNKNOWN: { description: 'Not recorded.' },
  },
});

/** The modalities the archive holds (DICOM Modality defined terms). */
export const MODALITIES = ['CT', 'MR', 'PT', 'DX', 'CR', 'MG', 'US', 'NM', 'RF'] as const;

/** BodyPartExamined defined terms (PS3.16 Annex L) used as anatomical sites. */
export const ANATOMICAL_SITES = [
  'ABDOMEN', 'ABDOMENPELVIS', 'PELVIS', 'CHEST', 'CHESTABDPELVIS', 'CHESTABDOMEN', 'HEAD', 'HEADNECK',
  'NECK', 'BRAIN', 'BREAST', 'LIVER', 'KIDNEY', 'UTERUS', 'OVARY', 'CERVIX', 'BLADDER', 'RECTUM',
  'COLON', 'LUNG', 'HEART', 'LSPINE', 'TSPINE', 'CSPINE', 'SPINE', 'HIP', 'PANCREAS', 'SPLEEN',
  'WHOLEBODY', 'THYROID',
] as const;
