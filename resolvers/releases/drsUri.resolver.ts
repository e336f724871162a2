import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../src/context.js';
import { Image, Series } from '../../src/entities/index.js';
import { drsUri } from '../../src/ga4gh/drs/ids.js';
import { ReleasesModule } from '../../src/releases/module.js';

@Resolver(() => Image)
export class ImageDrsUriResolver {
  @FieldResolver(() => String, { description: 'The image as a GA4GH DRS object (a blob): drs://<host>/<SOPInstanceUID>, resolved at /ga4gh/drs/v1.' })
  drsUri(@Root() image: Image, @Ctx() ctx: RequestContext) {
    return drsUri(ReleasesModule.of(ctx.em).drsHost, image.uid);
  }
}

@Resolver(() => Series)
export class SeriesDrsUriResolver {
  @FieldResolver(() => String, { description: 'The series as a GA4GH DRS bundle of its images: drs://<host>/<SeriesInstanceUID>.' })
  drsUri(@Root() series: Series, @Ctx() ctx: RequestContext) {
    return drsUri(ReleasesModule.of(ctx.em).drsHost, series.uid);
  }
}
