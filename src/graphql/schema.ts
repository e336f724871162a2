import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { resolvers } from '../../resolvers/index.js';

let cached: Promise<GraphQLSchema> | null = null;

/** The hub's schema, built from the decorated classes (code first); built once per process. */
export function buildObiaSchema(): Promise<GraphQLSchema> {
  cached ??= buildSchema({ resolvers, validate: false, emitSchemaFile: false });
  return cached;
}

/** The SDL checked in under schema/: sorted, so the file changes only when the API does. */
export async function printObiaSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await buildObiaSchema())) + '\n';
}
