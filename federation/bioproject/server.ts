import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { guardedApolloOptions } from '../guard.js';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import DataLoader from 'dataloader';
import type { BioProjectRecord } from '../../seeds/genomics/index.js';
import { bioProjectTypeDefs } from './schema.js';
import { SeedBioProjectSource, type BioProjectSource } from './source.js';

interface Context { bioProjects: DataLoader<string, BioProjectRecord | null> }

export function bioProjectSchema() {
  return buildSubgraphSchema({
    typeDefs: bioProjectTypeDefs,
    resolvers: {
      Query: { bioProject: (_: unknown, args: { accession: string }, ctx: Context) => ctx.bioProjects.load(args.accession) },
      BioProject: {
        __resolveReference: (ref: { accession: string }, ctx: Context) => ctx.bioProjects.load(ref.accession),
      },
    } as any,
  });
}

export interface RunningSubgraph { url: string; stop: () => Promise<void> }

/** Serves the BioProject subgraph; port 0 picks a free port (tests). */
export async function startBioProjectSubgraph(opts: { port: number; host?: string; source?: BioProjectSource }): Promise<RunningSubgraph> {
  const source = opts.source ?? new SeedBioProjectSource();
  // The hub's guard and no stack traces (federation/guard.ts): a subgraph answers whoever reaches its port.
  const guarded = guardedApolloOptions();
  const server = new ApolloServer<Context>({ schema: bioProjectSchema(), ...guarded, plugins: [ApolloServerPluginInlineTraceDisabled(), ...guarded.plugins as ApolloServerPlugin<Context>[]] });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port, ...(opts.host ? { host: opts.host } : {}) },
    // A loader per request: one source call for every reference in a gateway fetch.
    context: async () => ({ bioProjects: new DataLoader<string, BioProjectRecord | null>((keys) => source.byAccessions(keys)) }),
  });
  return { url, stop: () => server.stop() };
}
