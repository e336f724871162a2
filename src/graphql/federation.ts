import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import {
  GraphQLError, Kind, lexicographicSortSchema, parse, printSchema,
  type ConstDirectiveNode, type DefinitionNode, type DocumentNode, type GraphQLSchema, type GraphQLUnionType, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { createResolversMap } from 'type-graphql';
import { hasRole, Role, type Principal } from '../auth/Principal.js';
import { sameSecret } from '../auth/sameSecret.js';
import { BadUserInputError } from '../errors.js';

/**
 * Federation 2 wiring for the hub (issue 6): the TypeGraphQL schema becomes an Apollo
 * subgraph (the idea of TypeGraphQL's examples/apollo-federation-2 `buildFederatedSchema`),
 * and `_entities`/`_service` are kept for the gateway and admins.
 */

export const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/** The header the gateway sends to prove it is the gateway (federation/gateway/). */
export const GATEWAY_SECRET_HEADER = 'x-obia-gateway-secret';

/**
 * printSchema drops applied directives, and TypeGraphQL keeps `@Directive`s only on its AST
 * nodes; this copies them back onto the printed (sorted) SDL so `@key` reaches the subgraph.
 */
function withAppliedDirectives(schema: GraphQLSchema, document: DocumentNode): DefinitionNode[] {
  return document.definitions.map((def) => {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) return def;
    const type = schema.getType(def.name.value) as any;
    const fields = type?.getFields?.() ?? {};
    // The printed directives (@deprecated) stay; TypeGraphQL's own (@key, …) are added to them.
    const merged = (printed: readonly ConstDirectiveNode[] | undefined, own: readonly ConstDirectiveNode[] | undefined) =>
      [...(printed ?? []), ...(own ?? []).filter((d) => !printed?.some((p) => p.name.value === d.name.value))];
    return {
      ...def,
      directives: merged(def.directives, type?.astNode?.directives),
      fields: def.fields?.map((f) => ({ ...f, directives: merged(f.directives, fields[f.name.value]?.astNode?.directives) })),
    };
  });
}

/** TypeGraphQL offers no way to describe the root types; they are described here, on the SDL. */
const ROOT_DESCRIPTIONS: Record<string, string> = {
  Query: 'Browse the archive (collections, individuals, studies, series, images, statistics, similar images), your submissions, access requests and audit log.',
  Mutation: 'Submit and process data, curate and release collections, request and review access, create download links.',
  Subscription: 'Live events over graphql-ws on /graphql: a submission\'s progress, its QC decisions, and access-request updates.',
};

function describeRoots(def: DefinitionNode): DefinitionNode {
  if (def.kind !== Kind.OBJECT_TYPE_DEFINITION || def.description || !ROOT_DESCRIPTIONS[def.name.value]) return def;
  return { ...def, description: { kind: Kind.STRING, value: ROOT_DESCRIPTIONS[def.name.value]!, block: true } };
}

/**
 * Builds the subgraph around a TypeGraphQL schema: its SDL, sorted so the printed schema is
 * deterministic, plus `@link` to Federation 2, with TypeGraphQL's resolvers and the reference
 * resolvers merged onto it.
 */
export function toSubgraphSchema(schema: GraphQLSchema, referenceResolvers: Record<string, Record<string, unknown>>): GraphQLSchema {
  const sorted = parse(printSchema(lexicographicSortSchema(schema)));
  const typeDefs: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [...parse(FEDERATION_LINK).definitions, ...withAppliedDirectives(schema, sorted).map(describeRoots)],
  };
  const resolvers: Record<string, any> = { ...createResolversMap(schema) };
  for (const [type, fields] of Object.entries(referenceResolvers)) resolvers[type] = { ...resolvers[type], ...fields };
  const subgraph = buildSubgraphSchema({ typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> });
  guardFederationFields(subgraph);
  return subgraph;
}

// ---- who may call _entities and _service

/** Contexts the HTTP plugin cleared for federation fields (no secret configured, the gateway, or an admin). */
const cleared = new WeakSet<object>();

function forbidden(): GraphQLError {
  return new GraphQLError('_entities and _service are reserved for the federation gateway and administrators.', {
    extensions: { code: 'FORBIDDEN', http: { status: 403 } },
  });
}

/**
 * Resolver-level check, so a transport without the plugin (graphql-ws) cannot reach entity
 * resolution either: there only an admin may.
 */
function guardFederationFields(schema: GraphQLSchema): void {
  const fields = schema.getQueryType()!.getFields();
  const entityTypes = new Set((schema.getType('_Entity') as GraphQLUnionType | undefined)?.getTypes().map((t) => t.name) ?? []);
  for (const name of ['_entities', '_service']) {
    const field = fields[name];
    if (!field?.resolve) continue;
    const resolve = field.resolve;
    field.resolve = (source, args, context, info) => {
      const user = (context as { user?: Principal | null } | undefined)?.user ?? null;
      if (!(context && cleared.has(context)) && !hasRole(user, Role.ADMIN)) throw forbidden();
      if (name === '_entities') checkRepresentations(args.representations, entityTypes);
      return resolve(source, args, context, info);
    };
  }
}

/**
 * `_Any` takes any JSON, and @apollo/subgraph answers a representation whose `__typename` is
 * missing or names no type (`"Nope"`, `"__proto__"`) with a plain Error: INTERNAL_SERVER_ERROR,
 * logged as a fault of ours, for a caller's malformed input. Refused here as BAD_USER_INPUT
 * naming the position (never echoing the value), before any representation is resolved.
 */
function checkRepresentations(representations: unknown, entityTypes: Set<string>): void {
  if (!Array.isArray(representations)) throw new BadUserInputError('"representations" must be a list of objects.', 'representations');
  representations.forEach((rep, i) => {
    const typename = rep && typeof rep === 'object' && !Array.isArray(rep) ? (rep as Record<string, unknown>).__typename : undefined;
    if (typeof typename !== 'string' || !entityTypes.has(typename)) {
      throw new BadUserInputError(`representations[${i}] is not an object whose "__typename" names an entity of this subgraph (${[...entityTypes].sort().join(', ')}).`, 'representations');
    }
  });
}

function selectsFederationFields(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  const fragments = new Map(document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d: any) => [d.name.value, d.selectionSet]));
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): boolean => !!set && set.selections.some((sel) => {
    if (sel.kind === Kind.FIELD) return sel.name.value === '_entities' || sel.name.value === '_service';
    if (sel.kind === Kind.INLINE_FRAGMENT) return walk(sel.selectionSet);
    if (seen.has(sel.name.value)) return false;
    seen.add(sel.name.value);
    return walk(fragments.get(sel.name.value));
  });
  return walk(operation.selectionSet);
}

/**
 * With a gateway secret configured, refuses `_entities`/`_service` (403, FORBIDDEN) unless the
 * request carries the secret header or an admin's token; without one, everyone may call them
 * (local development, and the reference setup in federation/README.md).
 */
export function federationAccessPlugin(secret: string | null | undefined): ApolloServerPlugin<{ user: Principal | null }> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, contextValue, operation, document }) {
          const header = request.http?.headers.get(GATEWAY_SECRET_HEADER);
          const allowed = !secret || (!!header && sameSecret(header, secret)) || hasRole(contextValue.user, Role.ADMIN);
          if (allowed) cleared.add(contextValue);
          else if (operation && selectsFederationFields(operation, document)) throw forbidden();
        },
      };
    },
  };
}

/**
 * The hub's federation plugins for app.ts: the access check, and inline tracing off (Apollo
 * turns it on for any subgraph; it serves only Apollo's hosted usage reporting, unused here).
 */
export function federationPlugins(secret: string | null | undefined): ApolloServerPlugin<any>[] {
  return [federationAccessPlugin(secret), ApolloServerPluginInlineTraceDisabled()];
}
