import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { guardedApolloOptions } from '../guard.js';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import DataLoader from 'dataloader';
import type { GsaHumanIndividualRecord } from '../../seeds/genomics/index.js';
import type { RunningSubgraph } from '../bioproject/server.js';
import { gsaHumanTypeDefs } from './schema.js';
import { SeedGsaHumanSource, type GsaHumanSource } from './source.js';

interface Context { individuals: DataLoader<string, GsaHumanIndividualRecord | null> }

/** Record → GraphQL shape: the dataset as an object, runs carrying their experiment and platform. */
function present(r: GsaHumanIndividualRecord | null) {
  if (!r) return null;
  const experiments = r.experiments.map((e) => ({
    ...e, runs: e.runs.map((run) => ({ ...run, experimentAccession: e.accession, platform: e.platform })),
  }));
  return {
    ...r, experiments, runs: experiments.flatMap((e) => e.runs),
    dataset: { accession: r.datasetAccession, title: r.datasetTitle, bioProjectAccession: r.bioProjectAccession, accessType: r.accessType },
  };
}

export function gsaHumanSchema() {
  return buildSubgraphSchema({
    typeDefs: gsaHumanTypeDefs,
    resolvers: {
      Query: {
        gsaHumanIndividual: async (_: unknown, args: { accession: string }, ctx: Context) => present(await ctx.individuals.load(args.accession)),
      },
      GsaHumanIndividual: {
        __resolveReference: async (ref: { accession: string }, ctx: Context) => present(await ctx.individuals.load(ref.accession)),
      },
    } as any,
  });
}

/** Serves the GSA-Human subgraph; port 0 picks a free port (tests). */
export async function startGsaHumanSubgraph(opts: { port: number; host?: string; source?: GsaHumanSource }): Promise<RunningSubgraph> {
  const source = opts.source ?? new SeedGsaHumanSource();
  // The hub's guard and no stack traces (federation/guard.ts): a subgraph answers whoever reaches its port.
  const guarded = guardedApolloOptions();
  const server = new ApolloServer<Context>({ schema: gsaHumanSchema(), ...guarded, plugins: [ApolloServerPluginInlineTraceDisabled(), ...guarded.plugins as ApolloServerPlugin<Context>[]] });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port, ...(opts.host ? { host: opts.host } : {}) },
    context: async () => ({ individuals: new DataLoader<string, GsaHumanIndividualRecord | null>((keys) => source.byAccessions(keys)) }),
  });
  return { url, stop: () => server.stop() };
}
