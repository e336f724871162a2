import { Arg, Ctx, ID, Query, Resolver, createUnionType } from 'type-graphql';
import type { RequestContext } from '../src/context.js';
import { Collection, Image, Individual, Series, Study } from '../src/entities/index.js';

export const LookupResult = createUnionType({
  name: 'LookupResult',
  description: 'Whatever an accession or a UID names.',
  types: () => [Collection, Individual, Study, Series, Image] as const,
  resolveType: (value) => {
    for (const t of [Collection, Individual, Study, Series, Image]) if (value instanceof t) return t;
    return undefined;
  },
});

@Resolver()
export class LookupResolver {
  @Query(() => LookupResult, { nullable: true, description: 'Resolves an accession (OBIA0001, I000001, S00000001) or a Study/Series/SOP Instance UID.' })
  lookup(@Arg('id', () => ID, { description: 'An accession (OBIA0001, I000001, S00000001) or a de-identified Study, Series or SOP Instance UID.' }) id: string, @Ctx() ctx: RequestContext) {
    return ctx.browse.lookup(id);
  }
}
