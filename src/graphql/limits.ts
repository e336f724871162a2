import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/** Depth of the deepest field path in the operation, following fragments (cycles cut off). */
export function queryDepth(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
    if (!set) return 0;
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        max = Math.max(max, 1 + depthOf(sel.selectionSet, seen));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        max = Math.max(max, depthOf(sel.selectionSet, seen));
      } else {
        const name = sel.name.value;
        if (seen.has(name)) continue;
        max = Math.max(max, depthOf(fragments.get(name)?.selectionSet, new Set([...seen, name])));
      }
    }
    return max;
  };
  let max = 0;
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION && (!operationName || def.name?.value === operationName)) {
      max = Math.max(max, depthOf(def.selectionSet, new Set()));
    }
  }
  return max;
}

/**
 * A connection costs its page size times its children (its `edges` list adds nothing more);
 * other lists without a page size (a study's series, an individual's studies) count as 10
 * items, about twice what the archive holds on average.
 */
const pagedEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  const size = typeof args.first === 'number' ? args.first : typeof args.k === 'number' ? args.k : null;
  if (size != null) return 1 + Math.max(size, 1) * childComplexity;
  const plainList = String(field.type).includes('[') && field.name !== 'edges';
  return 1 + (plainList ? 10 : 1) * childComplexity;
};

/**
 * Refuses over-deep or over-complex operations after validation and before any resolver runs,
 * so an expensive query never reaches the database.
 */
export function queryLimitsPlugin(schema: GraphQLSchema, limits: { maxDepth: number; maxComplexity: number }): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          const depth = queryDepth(document, operationName);
          if (depth > limits.maxDepth) {
            throw new GraphQLError(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}.`, {
              extensions: { code: 'QUERY_TOO_DEEP', depth, maximum: limits.maxDepth, http: { status: 400 } },
            });
          }
          const complexity = getComplexity({ schema, query: document, operationName: operationName ?? undefined, variables: request.variables ?? {}, estimators: [pagedEstimator] });
          if (complexity > limits.maxComplexity) {
            throw new GraphQLError(`Query complexity ${complexity} exceeds the limit of ${limits.maxComplexity}; ask for smaller pages or fewer nested lists.`, {
              extensions: { code: 'QUERY_TOO_COMPLEX', complexity, maximum: limits.maxComplexity, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
