import { Ctx, Field, FieldResolver, Float, Int, ObjectType, registerEnumType, Resolver, Root } from 'type-graphql';
import { Action } from '../../src/access/policy.js';
import type { RequestContext } from '../../src/context.js';
import { Image } from '../../src/entities/index.js';
import type { BurnedInImageRecord } from '../../src/ingest/products/burnedInText.js';
import { QcReason } from '../../src/qc/reasons.js';

export enum BurnedInVerdictView { CLEAN = 'clean', REDACTED = 'redacted', NEEDS_REVIEW = 'needs-review', FAILED = 'failed' }
registerEnumType(BurnedInVerdictView, {
  name: 'BurnedInVerdict',
  description: 'What OCR of the pixels concluded.',
  valuesConfig: {
    CLEAN: { description: 'No text but harmless annotations (orientation markers, measurements) and text that is not PHI; nothing was changed.' },
    REDACTED: { description: 'PHI text was blanked in every frame of the stored file.' },
    NEEDS_REVIEW: { description: 'Text-like marks OCR could not read, or PHI found while Clean Pixel Data is off: a curator looks.' },
    FAILED: { description: 'OCR could not run (decoding failure, error or timeout): the image stays held.' },
  },
});

@ObjectType('RedactedRegion', { description: 'A rectangle blanked in the stored pixels, in pixel coordinates (the same in every frame).' })
class RedactedRegionView {
  @Field(() => Float, { description: 'Left edge.' }) x!: number;
  @Field(() => Float, { description: 'Top edge.' }) y!: number;
  @Field(() => Float, { description: 'Width.' }) w!: number;
  @Field(() => Float, { description: 'Height.' }) h!: number;
  @Field({ description: 'What kind of PHI it held (name, id, date, institution, han-name, label, …); never the text.' }) why!: string;
}

@ObjectType('BurnedInTextCheck', { description: 'The OCR check of an image\'s pixels for burned-in PHI, as ingest recorded it. Never quotes the text it read.' })
class BurnedInTextCheckView {
  @Field(() => BurnedInVerdictView, { description: 'The verdict.' }) verdict!: BurnedInVerdictView;
  @Field(() => String, { nullable: true, description: 'Why the image needs a person (null for a clean verdict).' }) reason!: string | null;
  @Field(() => QcReason, { nullable: true, description: 'The hold this check keeps on the image (BURNED_IN_TEXT or BURNED_IN_OCR_FAILED), or null when it kept none.' }) code!: QcReason | null;
  @Field({ description: 'Whether the stored file is the redacted one (Burned In Annotation NO, Clean Pixel Data recorded in its de-identification method).' }) redacted!: boolean;
  @Field(() => [RedactedRegionView], { description: 'The rectangles blanked (or, with Clean Pixel Data off, that would have been).' }) regions!: RedactedRegionView[];
  @Field(() => [Int], { description: 'The frames OCR read (0-based).' }) frames!: number[];
  @Field(() => Int, { description: 'Words OCR read that were judged PHI.' }) phiWords!: number;
  @Field(() => Int, { description: 'Text-like marks OCR could not read.' }) unreadMarks!: number;
  @Field({ description: 'The first frame with the regions outlined, path on this server (curators).' }) previewUrl!: string;
}

@Resolver(() => Image)
export class ImageBurnedInTextResolver {
  @FieldResolver(() => BurnedInTextCheckView, {
    nullable: true,
    description: 'Curators only (null for others): the burned-in text check of this image\'s pixels; null also when the image was not checked (not text-prone, or ingested before the check existed).',
  })
  async burnedInText(@Root() image: Image, @Ctx() ctx: RequestContext): Promise<BurnedInTextCheckView | null> {
    if (!(await ctx.session.can(Action.CURATE))) return null;
    // A lazy column: read for curators who ask, never for browse.
    const row = await ctx.em.findOne(Image, { id: image.id }, { fields: ['burnedInText'] });
    const raw = row?.burnedInText;
    if (!raw) return null;
    const r = (typeof raw === 'string' ? JSON.parse(raw) : raw) as BurnedInImageRecord;
    return {
      verdict: r.verdict as BurnedInVerdictView, reason: r.reason, code: r.code ?? null, redacted: r.redacted,
      regions: r.regions.map((g) => ({ x: g.x, y: g.y, w: g.w, h: g.h, why: g.why })), frames: r.frames,
      phiWords: r.counts.phi, unreadMarks: r.counts.unread, previewUrl: `/redactions/${image.uid}.png`,
    };
  }
}
