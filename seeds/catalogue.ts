import { Accessibility } from '../src/domain.js';

/** The owner of the seeded collections: controlled-access requests for OBIA0002/OBIA0004 go to them. */
export const SEED_OWNER = { sub: 'seed-owner', name: 'Seed Data Owner', institution: 'National Genomics Data Center' };

/**
 * The OBIA paper's four collections. Counts are their share of the paper's archive totals
 * (937 individuals, 4,136 studies, 24,701 series, 1,938,309 images), and sum to them exactly.
 */
export const SEED_COLLECTIONS = [
  {
    accession: 'OBIA0001', disease: 'endometrial cancer', accessibility: Accessibility.OPEN,
    title: 'Multimodal imaging of endometrial cancer before treatment',
    description: 'Pre-operative MR, CT and PET-CT of patients with endometrial cancer, with pathology-confirmed type, FIGO stage and treatment.',
    keywords: ['endometrial cancer', 'MRI', 'staging', 'gynecologic oncology'],
    bioProject: 'PRJCA013581', gsaDataset: 'HRA003701',
    counts: { individuals: 342, studies: 1480, series: 8830, images: 689_400 },
  },
  {
    accession: 'OBIA0002', disease: 'ovarian cancer', accessibility: Accessibility.CONTROLLED,
    title: 'Ovarian cancer imaging with matched genomic sequencing',
    description: 'CT and MR of ovarian cancer patients enrolled for whole-exome sequencing; imaging linked to GSA-Human runs for radiogenomic analysis.',
    keywords: ['ovarian cancer', 'radiogenomics', 'CT', 'whole exome'],
    bioProject: 'PRJCA013582', gsaDataset: 'HRA003702',
    counts: { individuals: 254, studies: 1150, series: 6840, images: 540_210 },
  },
  {
    accession: 'OBIA0003', disease: 'cervical cancer', accessibility: Accessibility.OPEN,
    title: 'Cervical cancer MR and CT through chemoradiotherapy',
    description: 'Longitudinal pelvic MR and planning CT of cervical cancer patients before, during and after concurrent chemoradiotherapy.',
    keywords: ['cervical cancer', 'chemoradiotherapy', 'longitudinal', 'pelvis'],
    bioProject: 'PRJCA013583', gsaDataset: 'HRA003703',
    counts: { individuals: 221, studies: 1002, series: 6081, images: 478_300 },
  },
  {
    accession: 'OBIA0004', disease: 'endometrial cancer', accessibility: Accessibility.CONTROLLED,
    title: 'Endometrial cancer follow-up imaging with molecular classification',
    description: 'Follow-up CT, MR and ultrasound of endometrial cancer patients with TCGA molecular subtype (POLE, MMRd, p53abn, NSMP).',
    keywords: ['endometrial cancer', 'follow-up', 'molecular classification'],
    bioProject: 'PRJCA013584', gsaDataset: 'HRA003704',
    counts: { individuals: 120, studies: 504, series: 2950, images: 230_399 },
  },
] as const;

export const PATHOLOGY: Record<string, readonly (readonly [string, number])[]> = {
  'endometrial cancer': [['endometrioid adenocarcinoma', 75], ['serous carcinoma', 10], ['clear cell carcinoma', 5], ['carcinosarcoma', 5], ['mixed carcinoma', 5]],
  'ovarian cancer': [['high-grade serous carcinoma', 70], ['low-grade serous carcinoma', 5], ['endometrioid carcinoma', 10], ['clear cell carcinoma', 10], ['mucinous carcinoma', 5]],
  'cervical cancer': [['squamous cell carcinoma', 80], ['adenocarcinoma', 15], ['adenosquamous carcinoma', 5]],
};

export const TREATMENTS: Record<string, readonly string[]> = {
  'endometrial cancer': ['total hysterectomy with bilateral salpingo-oophorectomy', 'hysterectomy and adjuvant vaginal brachytherapy', 'hysterectomy, lymphadenectomy and adjuvant chemotherapy', 'progestin therapy (fertility-sparing)'],
  'ovarian cancer': ['primary debulking surgery and carboplatin/paclitaxel', 'neoadjuvant chemotherapy and interval debulking', 'debulking surgery, chemotherapy and PARP inhibitor maintenance'],
  'cervical cancer': ['concurrent chemoradiotherapy with cisplatin', 'radical hysterectomy', 'radical hysterectomy and adjuvant radiotherapy', 'external beam radiotherapy and brachytherapy'],
};

export const MEDICAL_HISTORY = ['none', 'hypertension', 'type 2 diabetes', 'obesity', 'hypertension; type 2 diabetes', 'hypothyroidism', 'prior appendectomy', 'polycystic ovary syndrome', 'HPV infection'];
export const FAMILY_HISTORY = ['none', 'mother: breast cancer', 'sister: ovarian cancer', 'father: colorectal cancer', 'Lynch syndrome in family', 'mother: endometrial cancer', 'unknown'];

/** How often each modality appears, and where on the body it looks. */
export const MODALITY_MIX: readonly (readonly [string, number])[] = [
  ['MR', 46], ['CT', 30], ['PT', 6], ['DX', 5], ['CR', 3], ['US', 5], ['MG', 2], ['NM', 2], ['RF', 1],
];

export const SITES_BY_MODALITY: Record<string, readonly (readonly [string, number])[]> = {
  MR: [['PELVIS', 40], ['UTERUS', 15], ['CERVIX', 8], ['OVARY', 6], ['ABDOMEN', 10], ['ABDOMENPELVIS', 8], ['LIVER', 4], ['BRAIN', 3], ['LSPINE', 2], ['BREAST', 2], ['KIDNEY', 1], ['PANCREAS', 1]],
  CT: [['CHESTABDPELVIS', 25], ['ABDOMENPELVIS', 20], ['CHEST', 15], ['PELVIS', 12], ['ABDOMEN', 10], ['HEAD', 3], ['LUNG', 4], ['LIVER', 3], ['KIDNEY', 2], ['NECK', 2], ['HEADNECK', 1], ['SPINE', 1], ['BLADDER', 1], ['RECTUM', 1]],
  PT: [['WHOLEBODY', 80], ['CHESTABDPELVIS', 15], ['HEADNECK', 5]],
  DX: [['CHEST', 80], ['ABDOMEN', 10], ['HIP', 4], ['TSPINE', 3], ['CSPINE', 3]],
  CR: [['CHEST', 85], ['ABDOMEN', 10], ['PELVIS', 5]],
  US: [['PELVIS', 40], ['UTERUS', 20], ['OVARY', 15], ['ABDOMEN', 10], ['LIVER', 5], ['THYROID', 5], ['KIDNEY', 3], ['BREAST', 2]],
  MG: [['BREAST', 100]],
  NM: [['WHOLEBODY', 60], ['HEART', 20], ['THYROID', 10], ['KIDNEY', 10]],
  RF: [['COLON', 40], ['BLADDER', 30], ['ABDOMEN', 30]],
};

/** Typical matrix and images per series for each modality (a series of 1 for projection imaging). */
export const GEOMETRY: Record<string, { rows: number; columns: number; bits: number; sopClass: string; frames?: number }> = {
  MR: { rows: 512, columns: 512, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.4' },
  CT: { rows: 512, columns: 512, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.2' },
  PT: { rows: 192, columns: 192, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.128' },
  DX: { rows: 2500, columns: 2048, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.1.1' },
  CR: { rows: 2370, columns: 1770, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.1' },
  US: { rows: 600, columns: 800, bits: 8, sopClass: '1.2.840.10008.5.1.4.1.1.6.1' },
  MG: { rows: 3328, columns: 2560, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.1.2' },
  NM: { rows: 128, columns: 128, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.20', frames: 64 },
  RF: { rows: 1024, columns: 1024, bits: 16, sopClass: '1.2.840.10008.5.1.4.1.1.12.2' },
};

export const SERIES_DESCRIPTIONS: Record<string, readonly string[]> = {
  MR: ['T2 TSE SAG', 'T2 TSE AX', 'DWI b800', 'ADC', 'T1 VIBE DYN', 'T1 FS POST', 'T2 HASTE COR'],
  CT: ['AXIAL 5mm', 'AXIAL 1.25mm', 'CORONAL MPR', 'PORTAL VENOUS', 'ARTERIAL', 'NON-CONTRAST'],
  PT: ['PET AC', 'PET NAC', 'PET MIP'],
  DX: ['PA', 'LATERAL', 'AP'], CR: ['PA', 'AP SUPINE'], US: ['TRANSVAGINAL', 'TRANSABDOMINAL', 'DOPPLER'],
  MG: ['L CC', 'R CC', 'L MLO', 'R MLO'], NM: ['BONE SCAN WB', 'SPECT'], RF: ['BARIUM ENEMA', 'CYSTOGRAM'],
};
