export { checkFile, expectedNativeLength, expectsPixelData, headerFindings, type FileCheckOptions, type FileCheckResult } from './checks.js';
export { findInconsistencies, type ConsistencyFinding, type ConsistencyInput } from './consistency.js';
export { findDuplicates, type Duplicate, type DuplicateInput, type DuplicateReport } from './duplicates.js';
export { readFacts, UnreadableFileError, type FileFacts, type PixelFacts } from './facts.js';
export { bySeverity, QcReason, type QcFinding } from './reasons.js';
export { TagCensus, type CensusEntry, type CensusFilter, type CensusLimits, type TagCensusJson } from './TagCensus.js';
