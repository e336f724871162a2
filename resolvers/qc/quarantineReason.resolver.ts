import { Ctx, FieldResolver, Resolver, Root, registerEnumType } from 'type-graphql';
import { SubmissionFile } from '../../src/entities/index.js';
import { QC_REASON_DESCRIPTIONS, QcReason } from '../../src/qc/reasons.js';

/** Generated from the one vocabulary the pipeline writes (src/qc/reasons.ts): a new code there is a new value here. */
registerEnumType(QcReason, {
  name: 'QuarantineReason',
  description: 'Why a file was quarantined (or set aside as a duplicate); the pipeline\'s own codes.',
  valuesConfig: Object.fromEntries(Object.entries(QC_REASON_DESCRIPTIONS).map(([k, description]) => [k, { description }])),
});

const KNOWN = new Set<string>(Object.values(QcReason));

@Resolver(() => SubmissionFile)
export class QuarantineReasonResolver {
  @FieldResolver(() => QcReason, { nullable: true, description: 'Why the file was quarantined, as a code to switch on; null when it was not.' })
  reason(@Root() file: SubmissionFile, @Ctx() _ctx: unknown): QcReason | null {
    const code = file.quarantineReason;
    // Rows written before a code joined the vocabulary read as the catch-all, never as an error.
    return code ? (KNOWN.has(code) ? code as QcReason : QcReason.PROCESSING_ERROR) : null;
  }
}
