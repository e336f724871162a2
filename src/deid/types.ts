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
  dataset: Record<string, unknown>;
  heldForPixelReview: string | null;
  actions: DeidAction[];
}

export interface SourceIdentity {
  patientId: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  sopInstanceUid: string | null;
}
