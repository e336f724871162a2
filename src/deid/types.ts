export interface DeidOptions {
  cleanPixelData: boolean;
  cleanDescriptors: boolean;
  retainLongitudinalModifiedDates: boolean;
  retainPatientCharacteristics: boolean;
  retainDeviceIdentity: boolean;
  retainSafePrivate: boolean;
}

/** The profile OBIA applies: Basic Profile plus the six options the OBIA paper names. */
export const OBIA_DEFAULT_OPTIONS: DeidOptions = Object.freeze({
  cleanPixelData: true,
  cleanDescriptors: true,
  retainLongitudinalModifiedDates: true,
  retainPatientCharacteristics: true,
  retainDeviceIdentity: true,
  retainSafePrivate: true,
});

export interface DeidContext {
  /** The key UIDs are remapped under (remapUid): in ingest, the collection's (collectionUidKey). */
  secret: string;
  individualAccession: string;
  dateOffsetDays: number;
  options: DeidOptions;
}

export interface DeidAction {
  tag: string;
  keyword?: string;
  action: string;
}

export interface DeidResult {
  output: Buffer;
  /** The output's transfer syntax (what its File Meta declares). */
  transferSyntaxUid: string;
  /** The de-identified dataset, naturalized; without Pixel Data when `header` is set. */
  dataset: Record<string, unknown>;
  /**
   * The header just written (dcmjs tag-keyed form, no Pixel Data) and its Pixel Data value
   * (bytes after the element header: the value, or the items when encapsulated), so later
   * readers of the same file (census, thumbnail, hash) need no parse of their own. Null when
   * the output had to be parsed whole.
   */
  header: { dict: Record<string, { vr: string; Value?: unknown[] }>; transferSyntaxUid: string; pixelValue: Uint8Array; pixelVr: string; encapsulated: boolean } | null;
  heldForPixelReview: string | null;
  actions: DeidAction[];
}

export interface SourceIdentity {
  patientId: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  sopInstanceUid: string | null;
}
