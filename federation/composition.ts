import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { buildObiaSchema } from '../src/graphql/schema.js';
import { bioProjectTypeDefs } from './bioproject/schema.js';
import { gsaHumanTypeDefs } from './gsa-human/schema.js';

/** Subgraph names as the supergraph records them, with the URLs `npm run gateway` serves them on. */
export const SUBGRAPHS = {
  hub: 'http://localhost:4001/graphql',
  bioproject: 'http://localhost:4002/',
  'gsa-human': 'http://localhost:4003/',
} as const;

export type SubgraphName = keyof typeof SUBGRAPHS;

/**
 * Composes the three subgraph schemas with @apollo/composition, locally (no hosted registry):
 * the hub's from the code, the reference subgraphs' from their type definitions.
 */
export async function composeSupergraph(): Promise<string> {
  const hubSdl = printSubgraphSchema(await buildObiaSchema());
  const result = composeServices([
    { name: 'hub', url: SUBGRAPHS.hub, typeDefs: parse(hubSdl) },
    { name: 'bioproject', url: SUBGRAPHS.bioproject, typeDefs: bioProjectTypeDefs },
    { name: 'gsa-human', url: SUBGRAPHS['gsa-human'], typeDefs: gsaHumanTypeDefs },
  ]);
  if (result.errors) {
    throw new Error(`supergraph composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
  return result.supergraphSdl.trimEnd() + '\n';
}
