// Burned-in text: OCR finds text in the pixels, judges it against the file's own identifying
// attributes and PHI patterns, and blanks the PHI. scan.ts is the worker half, release.ts the
// main-thread half; see the module README for how ingest registers it.
export { identifyingAttributesOf, readIdentifyingAttributes, type IdentifyingAttributes } from './identity';
export { OcrEngine, OcrTimeoutError, type Box, type Gray8, type OcrWord } from './ocrEngine';
export { classifyWords, normalise, type ClassifiedWord, type PhiKind, type WordClass } from './phiText';
export { redactBoxes, RedactionError } from './redact';
export { decideBurnedInHold, needsBurnedInScan, releasePolicyFromEnv, scanAllFromEnv, type BurnedInRecord, type BurnedInReleasePolicy } from './release';
export { outlineRegions, redactionPreviewPng } from './preview';
export { scanBurnedInText, type BurnedInScan, type BurnedInScanOptions, type BurnedInVerdict, type RedactedRegion } from './scan';
