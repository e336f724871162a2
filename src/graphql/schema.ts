import 'reflect-metadata';
import { printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { resolvers } from '../../resolvers/index.js';
import { pubSub } from '../events/pubsub.js';
import { linkResolvers } from '../../federation/hub/links.resolver.js';
import { referenceResolvers } from '../../federation/hub/references.js';
import { toSubgraphSchema } from './federation.js';

let cached: Promise<GraphQLSchema> | null = null;

/**
 * The hub's schema, built from the decorated classes (code first) and served as a Federation 2
 * subgraph (src/graphql/federation.ts); built once per process.
 */
export function buildObiaSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({ resolvers: [...resolvers, ...linkResolvers], validate: false, emitSchemaFile: false, pubSub })
    .then((schema) => toSubgraphSchema(schema, referenceResolvers));
  return cached;
}

/**
 * The SDL checked in under schema/: the subgraph schema as the gateway composes it, types
 * sorted, so the file changes only when the API does.
 */
export async function printObiaSchema(): Promise<string> {
  return printSubgraphSchema(await buildObiaSchema()).trimEnd() + '\n';
}
