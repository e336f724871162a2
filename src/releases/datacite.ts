import type { DataCiteConfig } from './config.js';

/** What the DataCite metadata of a version is built from. */
export interface VersionFacts {
  accession: string;
  number: number;
  title: string;
  description: string;
  keywords: string[];
  disease: string;
  accessibility: string;
  bioProjectAccession: string | null;
  submitter: { name: string | null; institution: string | null; sub: string };
  submitterOrganization: string | null;
  publisher: string;
  releasedAt: Date;
  imageCount: number;
  totalSize: number;
  landingUrl: string;
  /** The identifier of the version before this one, if any. */
  previous: { identifier: string; kind: 'DOI' | 'LOCAL' } | null;
}

/** The identifier a version gets: `<prefix>/<accession>.v<n>`; LOCAL when no DataCite prefix is configured. */
export function versionIdentifier(accession: string, number: number, datacite: DataCiteConfig | null): string {
  return `${datacite ? datacite.prefix : 'LOCAL'}/${accession}.v${number}`;
}

/** Where a BioProject accession resolves: CNCB-NGDC for PRJCA, NCBI for the INSDC prefixes (PRJNA, PRJEB, PRJDB). */
export function bioProjectUrl(accession: string): string {
  return accession.startsWith('PRJCA')
    ? `https://ngdc.cncb.ac.cn/bioproject/browse/${accession}`
    : `https://www.ncbi.nlm.nih.gov/bioproject/${accession}`;
}

/**
 * The attributes of a DataCite REST API `dois` resource (DataCite Metadata Schema 4) for one
 * version. `identifierKind` LOCAL labels an identifier that is not a DOI.
 */
export function dataCiteAttributes(f: VersionFacts, identifier: string, kind: 'DOI' | 'LOCAL'): Record<string, any> {
  const creators: any[] = [];
  if (f.submitter.name) {
    const [given, ...rest] = f.submitter.name.trim().split(/\s+/);
    creators.push({
      name: rest.length ? `${rest.join(' ')}, ${given}` : f.submitter.name, nameType: 'Personal',
      ...(rest.length ? { givenName: given, familyName: rest.join(' ') } : {}),
      affiliation: f.submitter.institution ? [{ name: f.submitter.institution }] : [],
    });
  }
  if (f.submitterOrganization) creators.push({ name: f.submitterOrganization, nameType: 'Organizational' });
  // DataCite requires a creator: the depositing account's identifier when nothing better is known.
  if (!creators.length) creators.push({ name: f.submitter.sub, nameType: 'Personal' });
  const related: any[] = [];
  if (f.bioProjectAccession) {
    related.push({ relatedIdentifier: bioProjectUrl(f.bioProjectAccession), relatedIdentifierType: 'URL', relationType: 'IsSupplementTo', resourceTypeGeneral: 'Dataset' });
  }
  if (f.previous) {
    related.push({ relatedIdentifier: f.previous.identifier, relatedIdentifierType: f.previous.kind === 'DOI' ? 'DOI' : 'URL', relationType: 'IsNewVersionOf' });
  }
  return {
    ...(kind === 'DOI' ? { doi: identifier } : {}),
    identifiers: [{ identifier, identifierType: kind === 'DOI' ? 'DOI' : 'Local' }],
    creators,
    titles: [{ title: f.title }],
    publisher: f.publisher,
    publicationYear: f.releasedAt.getUTCFullYear(),
    types: { resourceTypeGeneral: 'Dataset', resourceType: 'De-identified DICOM imaging collection' },
    subjects: [...new Set([f.disease, ...f.keywords].filter(Boolean))].map((subject) => ({ subject })),
    dates: [{ date: f.releasedAt.toISOString().slice(0, 10), dateType: 'Issued' }],
    version: String(f.number),
    descriptions: f.description ? [{ description: f.description, descriptionType: 'Abstract' }] : [],
    sizes: [`${f.imageCount} DICOM files`, `${f.totalSize} bytes`],
    formats: ['application/dicom'],
    rightsList: [{ rights: f.accessibility === 'OPEN' ? 'Open access (de-identified data; sign-in required to download)' : 'Controlled access: an approved data access request or a GA4GH Passport ControlledAccessGrants visa' }],
    relatedIdentifiers: related,
    url: f.landingUrl,
    schemaVersion: 'http://datacite.org/schema/kernel-4',
  };
}

/** A citation in DataCite's recommended form: Creator (Year). Title. Version. Publisher. (Dataset). Identifier. */
export function citation(attrs: Record<string, any>, kind: string, id: string): string {
  const creators = (attrs.creators as any[]).map((c) => c.name).join('; ');
  const tail = kind === 'DOI' ? `https://doi.org/${id}`
    : kind === 'MINT_PENDING' ? `${id} (DOI registration pending; not yet resolvable)`
    : `${id} (local identifier; no DOI has been minted)`;
  return `${creators} (${attrs.publicationYear}). ${attrs.titles[0].title} (Version ${attrs.version}) [Data set]. ${attrs.publisher}. ${tail}`;
}

export class DataCiteError extends Error {}

/**
 * Registers and publishes a DOI through the DataCite REST API (`POST /dois`, JSON:API body,
 * HTTP Basic with the repository's credentials). Returns the DOI DataCite answers with.
 */
export async function mintDoi(config: DataCiteConfig, doi: string, attributes: Record<string, any>): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${config.endpoint}/dois`, {
      method: 'POST',
      headers: {
        'content-type': 'application/vnd.api+json',
        authorization: `Basic ${Buffer.from(`${config.repositoryId}:${config.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ data: { type: 'dois', attributes: { ...attributes, doi, event: 'publish' } } }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new DataCiteError(`DataCite is unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) throw new DataCiteError(`DataCite answered ${res.status}: ${text.slice(0, 300)}`);
  let body: any;
  try { body = JSON.parse(text); } catch { throw new DataCiteError('DataCite answered with a body that is not JSON'); }
  const minted = body?.data?.attributes?.doi ?? body?.data?.id;
  if (typeof minted !== 'string' || minted.toLowerCase() !== doi.toLowerCase()) throw new DataCiteError(`DataCite registered ${minted}, not ${doi}`);
  return minted;
}
