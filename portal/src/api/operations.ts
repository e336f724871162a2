// Every GraphQL operation the portal sends, in one place, written against schema/obia.graphql:
// when the API renames a field, this file is the change.

/** The browse filter as the URL carries it and as BrowseFilterInput takes it. */
export interface BrowseFilter {
  sex?: string[]; ageMin?: number; ageMax?: number; disease?: string; modality?: string[]; anatomicalSite?: string[];
  accessibility?: 'OPEN' | 'CONTROLLED'; collection?: string[]; hasGsaHumanLink?: boolean; keyword?: string;
}

const COUNTS = 'key individuals studies series images';

export const HOME = `query Home {
  statistics { total { ${COUNTS} } byCollection { ${COUNTS} } byModality { ${COUNTS} } byAnatomicalSite { ${COUNTS} } }
  collections(first: 100) { totalCount edges { node { accession title disease accessibility releaseState bioProjectAccession } } }
}`;

export const LOOKUP = `query Lookup($id: ID!) {
  lookup(id: $id) { __typename
    ... on Collection { accession } ... on Individual { accession } ... on Study { accession }
    ... on Series { uid } ... on Image { uid series { uid } } }
}`;

const AGE_BINS: [string, number | undefined, number | undefined][] = [['0–17', 0, 17], ['18–39', 18, 39], ['40–59', 40, 59], ['60–79', 60, 79], ['80+', 80, undefined]];
export const SEXES = ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN'];
export { AGE_BINS };

/** A facet count: a key of the facets query and the filter it counts under. */
export interface FacetSpec { alias: string; facet: string; value: string; filter: BrowseFilter }

function without(f: BrowseFilter, ...keys: (keyof BrowseFilter)[]): BrowseFilter {
  const out = { ...f };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * Every facet of the browse page in ONE request: the totals and Table 1/S1/S2 rows under the
 * current filter, and each facet's counts under the filter without that facet's own selection
 * (so choosing CT still shows how many MR series there are), as aliases of `statistics`.
 */
export function browseFacets(filter: BrowseFilter): { query: string; variables: Record<string, unknown>; specs: FacetSpec[] } {
  const specs: FacetSpec[] = [];
  for (const sex of SEXES) specs.push({ alias: `sex_${sex}`, facet: 'sex', value: sex, filter: { ...without(filter, 'sex'), sex: [sex] } });
  for (const acc of ['OPEN', 'CONTROLLED'] as const) specs.push({ alias: `acc_${acc}`, facet: 'accessibility', value: acc, filter: { ...without(filter, 'accessibility'), accessibility: acc } });
  for (const link of [true, false]) specs.push({ alias: `gsa_${link}`, facet: 'hasGsaHumanLink', value: String(link), filter: { ...without(filter, 'hasGsaHumanLink'), hasGsaHumanLink: link } });
  AGE_BINS.forEach(([label, min, max], i) => specs.push({ alias: `age_${i}`, facet: 'age', value: label, filter: { ...without(filter, 'ageMin', 'ageMax'), ageMin: min, ageMax: max } }));
  const vars: Record<string, unknown> = {
    all: filter, noModality: without(filter, 'modality'), noSite: without(filter, 'anatomicalSite'),
    noCollection: without(filter, 'collection'), noDisease: without(filter, 'disease'),
  };
  specs.forEach((s, i) => { vars[`f${i}`] = s.filter; });
  const decl = Object.keys(vars).map((k) => `$${k}: BrowseFilterInput`).join(', ');
  const query = `query BrowseFacets(${decl}) {
  all: statistics(filter: $all) { total { ${COUNTS} } }
  byModality: statistics(filter: $noModality) { byModality { key series images } }
  bySite: statistics(filter: $noSite) { byAnatomicalSite { key series images } }
  byCollection: statistics(filter: $noCollection) { byCollection { key series images } }
  byDisease: statistics(filter: $noDisease) { byCollection { key series } }
  collections(first: 100) { edges { node { accession title disease } } }
${specs.map((s, i) => `  ${s.alias}: statistics(filter: $f${i}) { total { series } }`).join('\n')}
}`;
  return { query, variables: vars, specs };
}

export const BROWSE_SERIES = `query BrowseSeries($filter: BrowseFilterInput, $first: Int!, $after: String) {
  seriesList(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor hasPreviousPage }
    edges { cursor node { uid modality anatomicalSite description imageCount seriesNumber
      study { accession studyDate } individual { accession sex age disease } collection { accession title accessibility } } }
  }
}`;

export const COLLECTION = `query CollectionPage($accession: String!, $after: String) {
  collection(accession: $accession) {
    accession title description disease keywords accessibility releaseState releasedAt createdAt submitter submitterOrganization
    bioProjectAccession viewerCanDownload viewerCanRequestAccess viewerCanReviewRequests viewerCanViewThumbnails
    seriesCountsByModality { modality studies series images }
    individuals(first: 25, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { accession sex age disease pathologicalType gsaHumanAccession studies { accession modalities } } } }
  }
}`;

export const INDIVIDUAL = `query IndividualPage($accession: String!) {
  individual(accession: $accession) {
    accession sex age species disease pathologicalType medicalHistory familyHistory treatment gsaHumanAccession
    collection { accession title accessibility viewerCanViewThumbnails viewerCanDownload bioProjectAccession }
    studies { accession studyDate ageAtStudy description modalities series: seriesList { uid modality anatomicalSite imageCount description } }
  }
}`;

export const STUDY = `query StudyPage($accession: String!) {
  study(accession: $accession) {
    accession studyInstanceUid studyDate ageAtStudy description modalities reviewState
    individual { accession sex age disease }
    collection { accession title accessibility viewerCanViewThumbnails viewerCanDownload }
    series: seriesList { uid modality anatomicalSite description imageCount seriesNumber previewUrl }
  }
}`;

export const SERIES = `query SeriesPage($uid: String!) {
  series(uid: $uid) {
    uid modality anatomicalSite description imageCount seriesNumber previewUrl reviewState
    review { verdict note reviewer reviewedAt }
    study { accession studyDate description studyInstanceUid }
    individual { accession sex age disease }
    collection { accession title accessibility viewerCanViewThumbnails viewerCanDownload viewerCanRequestAccess }
  }
}`;

/** Asked only when viewerCanViewThumbnails: a series' images are pixel data. */
export const SERIES_IMAGES = `query SeriesImages($uid: String!, $after: String) {
  series(uid: $uid) { uid images(first: 500, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { node { uid instanceNumber rows columns frames transferSyntaxUid size thumbnailUrl } } } }
}`;

export const CREATE_DOWNLOAD_LINK = `mutation CreateDownloadLink($target: DownloadTargetInput!) {
  createDownloadLink(target: $target) { url expiresAt }
}`;

export const SIMILAR_IMAGES = `query SimilarImages($image: ImageQueryInput!, $k: Int!, $filter: BrowseFilterInput) {
  similarImages(image: $image, k: $k, filter: $filter) {
    distance
    image { uid instanceNumber rows columns thumbnailUrl
      series { uid modality anatomicalSite description study { accession } individual { accession sex age disease } collection { accession title } } }
  }
}`;

export const RETRIEVAL_OPTIONS = `query RetrievalOptions {
  statistics { byModality { key } byAnatomicalSite { key } byCollection { key } }
}`;

export const VIEWER = `query Viewer { viewer { id name institution roles } }`;

// --- submission -----------------------------------------------------------------------------

const SUBMISSION_FIELDS = `id title description disease keywords accessibility bioProjectAccession state submitter uploadUrl createdAt
  collection { accession releaseState }
  progress { state total counts { state count } }
  qcSummary { quarantined duplicates unresolvedQuarantined releaseBlockers { reason count message } }
  files(first: 500) { totalCount edges { node { id originalName size state quarantineReason quarantineMessage heldForPixelReview repairRequest resolution imageUid } } }`;

export const CREATE_SUBMISSION = `mutation CreateSubmission($input: CreateSubmissionInput!) { createSubmission(input: $input) { ${SUBMISSION_FIELDS} } }`;
export const SUBMISSION = `query Submission($id: ID!) { submission(id: $id) { ${SUBMISSION_FIELDS} } }`;
export const ADD_CLINICAL_CSV = `mutation AddClinicalCsv($submission: ID!, $csv: String!) { addClinicalDataCsv(submission: $submission, csv: $csv) }`;
export const PROCESS_SUBMISSION = `mutation ProcessSubmission($submission: ID!) { processSubmission(submission: $submission) { id state progress { submissionId state total counts { state count } unmatchedClinicalRecords } } }`;
export const SUBMISSION_PROGRESS = `subscription SubmissionProgress($submission: ID!) { submissionProgress(submission: $submission) { submissionId state total counts { state count } unmatchedClinicalRecords } }`;
export const RESOLVE_QUARANTINED = `mutation ResolveQuarantined($file: ID!, $action: QuarantineAction!) { resolveQuarantined(file: $file, action: $action) { id state resolution } }`;

// --- access ---------------------------------------------------------------------------------

const REQUEST_FIELDS = `id state purpose scopeOfUse institution pledgeNotToReidentify createdAt reviewedAt reviewer decisionNote expiresAt
  collection { accession title } requester { id name institution }`;

export const REQUEST_ACCESS = `mutation RequestAccess($collection: String!, $input: AccessRequestInput!) { requestAccess(collection: $collection, input: $input) { ${REQUEST_FIELDS} } }`;
export const MY_REQUESTS = `query MyRequests { myAccessRequests { ${REQUEST_FIELDS} } }`;
export const REVIEW_QUEUE = `query ReviewQueue { pendingAccessRequests { ${REQUEST_FIELDS} } }`;
export const REVIEW_REQUEST = `mutation ReviewRequest($id: ID!, $decision: ReviewDecision!, $note: String) { reviewAccessRequest(id: $id, decision: $decision, note: $note) { ${REQUEST_FIELDS} } }`;
export const COLLECTION_TITLE = `query CollectionTitle($accession: String!) { collection(accession: $accession) { accession title accessibility viewerCanRequestAccess viewerCanDownload } }`;

// --- curation -------------------------------------------------------------------------------

export const CURATION = `query Curation($id: ID!) {
  submission(id: $id) { ${SUBMISSION_FIELDS}
    tagCensus(textOnly: true) { tag keyword vr files distinctValues distinctValuesCapped sampleValues retained privateCreator }
    qcHistory { id at actor kind subject reason message }
  }
}`;
export const CURATION_SERIES = `query CurationSeries($collection: [String!]) {
  seriesList(filter: { collection: $collection }, first: 200) { totalCount
    edges { node { uid modality anatomicalSite description imageCount previewUrl reviewState review { verdict note reviewer } study { accession } } } }
}`;
// imageCount: the images the preview showed; a series that holds another number now is CONFLICT (look again), so a verdict never covers an image that arrived unseen.
export const REVIEW_SERIES = `mutation ReviewSeries($uid: String!, $verdict: QcVerdict!, $note: String!, $imageCount: Int) { reviewSeries(uid: $uid, verdict: $verdict, note: $note, imageCount: $imageCount) { verdict note reviewer reviewedAt } }`;
export const RELEASE_COLLECTION = `mutation Release($accession: String!) { releaseCollection(accession: $accession) { released blockers { reason count message } collection { accession releaseState releasedAt } } }`;
