import type { ApolloServerOptionsWithSchema, BaseContext } from '@apollo/server';
import { loadConfig } from '../src/config.js';
import { guardOperation, type QueryLimits } from '../src/graphql/limits.js';

/**
 * What every Apollo server of the federated stack other than the hub (the gateway, the reference
 * BioProject and GSA-Human subgraphs) takes from the hub: its guard on every operation, with the
 * hub's limits (src/graphql/limits.ts: tokens, depth, aliases, directives, cost; `_entities`
 * priced per representation), and no stack traces in answers (Apollo's default outside
 * NODE_ENV=production named the server's files to every caller). The hub guards before Apollo
 * parses; these servers have no route of their own to do it in, so the guard runs after
 * validation, which the token limit keeps small.
 */
export function guardedApolloOptions(limits: QueryLimits = loadConfig().limits): Pick<ApolloServerOptionsWithSchema<BaseContext>, 'parseOptions' | 'includeStacktraceInErrorResponses'> & { plugins: NonNullable<ApolloServerOptionsWithSchema<BaseContext>['plugins']> } {
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    includeStacktraceInErrorResponses: false,
    plugins: [{
      async requestDidStart() {
        return {
          async didResolveOperation({ schema, document, request, operationName }) {
            guardOperation(schema, document, limits, request.variables, operationName);
          },
        };
      },
    }],
  };
}
