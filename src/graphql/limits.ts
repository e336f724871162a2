import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType, GraphQLError, type GraphQLField, SchemaMetaFieldDef, TypeMetaFieldDef, isListType, isNonNullType, isObjectType, isInterfaceType, Kind, Lexer, parse, Source, TokenKind, valueFromASTUntyped,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLNamedType, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode, type ValueNode,
} from 'graphql';
import { BadUserInputError, QueryTooComplexError, QueryTooDeepError } from '../errors.js';
import { TEXT_LIMITS } from '../freeText.js';

/** What one operation may be, over every transport. */
export interface QueryLimits {
  /** Lexical tokens of the whole document: bounds parsing itself (the 2 M-alias query stops here). */
  maxTokens: number;
  /** Field nesting, following fragments; introspection fields (`__schema`, …) do not count. */
  maxDepth: number;
  /** The cost estimate (see `costOf`): what the operation may make the database do. */
  maxComplexity: number;
  /** Aliased fields once fragments are expanded. */
  maxAliases: number;
  /** Directives once fragments are expanded. */
  maxDirectives: number;
}

/**
 * What a root field costs before its children: aggregates over the whole archive and model
 * inference are priced so that a few fit in one operation and a few hundred do not. Every other
 * root field costs DEFAULT_ROOT_COST; every nested field 1.
 */
const ROOT_COSTS: Record<string, number> = {
  // Statistics scan only the tables a selection asks for (StatisticsService is lazy per table),
  // so the portal's browse facets (about 25 aliases, one per facet value) fit in one request
  // while thousands of aliases do not.
  statistics: 6_000,
  similarImages: 20_000,
  lookup: 50,
  auditLog: 500,
  tagCensus: 5_000,
};
const DEFAULT_ROOT_COST = 10;
/**
 * The longest string an argument may carry, anywhere inside it (input objects, lists), on every
 * transport: a title, a note or an id is far shorter, and without a bound a mutation stored
 * whatever a 1 MB body held (a 300,000-character collection title was accepted). Arguments that
 * carry documents are named in LONG_TEXT, by field and path.
 */
const MAX_TEXT = 4_000;
/** A NUL, or a surrogate that is not half of a pair (under the u flag a pair is one code point, never Cs). */
const NOT_TEXT = /[\0\p{Cs}]/u;
/** Input objects and lists inside one another, at most (the schema's deepest input is 3). */
const MAX_VALUE_DEPTH = 32;
const LONG_TEXT: Record<string, number> = {
  // A clinical-data CSV, and a query image sent inline (deprecated for /query-images): as long as the request body allows.
  'addClinicalDataCsv.csv': Infinity,
  'similarImages.image.base64': Infinity,
  // Documents whose own bounds the services enforce (src/freeText.ts).
  'createSubmission.input.description': TEXT_LIMITS.collectionDescription,
  'requestAccess.input.purpose': TEXT_LIMITS.accessRequestText,
  'requestAccess.input.scopeOfUse': TEXT_LIMITS.accessRequestText,
};
/** A list without a page size (a study's series, an individual's studies): about twice the archive's average. */
const UNPAGED_LIST = 10;

interface Stats { depth: number; cost: number; aliases: number; directives: number }

/**
 * Braces, brackets and parentheses open inside one another, at most. graphql-js parses by
 * recursion, a few stack frames per level: about 2,000 nested selections (a 12 KB query, within
 * the token limit) overflowed the stack, answered 500 over HTTP and closed a graphql-ws
 * connection with the RangeError's message. A query within the depth limit (16 fields) with
 * deep arguments and inline fragments nests well under this.
 */
const MAX_NESTING = 64;

/** Refuses a document nested deeper than MAX_NESTING, lexing it without recursion before parse() recurses into it. */
function assertNesting(source: string, maxTokens: number): void {
  const lexer = new Lexer(new Source(source));
  let depth = 0;
  for (let token = lexer.advance(), n = 1; token.kind !== TokenKind.EOF && n <= maxTokens; token = lexer.advance(), n++) {
    if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
      if (++depth > MAX_NESTING) throw new QueryTooDeepError(depth, MAX_NESTING, `The document nests braces, brackets or parentheses more than ${MAX_NESTING} deep.`);
    } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
      depth--;
    }
  }
}

/** Parses with the token and nesting limits; a document over either is refused before it is fully read. */
export function parseLimited(source: string, limits: Pick<QueryLimits, 'maxTokens'>): DocumentNode {
  if (typeof source !== 'string') throw new BadUserInputError('"query" must be a string.', 'query');
  try {
    assertNesting(source, limits.maxTokens);
    return parse(source, { maxTokens: limits.maxTokens, noLocation: false });
  } catch (err) {
    if (err instanceof QueryTooDeepError) throw err;
    if (err instanceof GraphQLError && /tokens/.test(err.message)) {
      throw new QueryTooComplexError(`The document has more than ${limits.maxTokens} tokens.`, { maximum: limits.maxTokens });
    }
    if (err instanceof GraphQLError) {
      // Syntax errors name a position, never the source text.
      throw new GraphQLError(err.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    }
    throw err;
  }
}

/**
 * The guard: checks one operation of a parsed document against the limits in time linear in the
 * document's size. Each fragment is measured once (in dependency order, without recursion over
 * the fragment graph) and its numbers reused wherever it is spread, so fragments spreading each
 * other twice cost a multiplication, not a re-walk; a fragment cycle is refused. Throws
 * QUERY_TOO_DEEP or QUERY_TOO_COMPLEX; returns the operation's numbers otherwise.
 */
export function guardOperation(
  schema: GraphQLSchema, document: DocumentNode, limits: QueryLimits,
  variables: Record<string, unknown> | null | undefined = {}, operationName?: string | null,
): Stats {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === Kind.OPERATION_DEFINITION) operations.push(def);
  }
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  // Which operation to run is the executor's question; with none to pick, it refuses it there.
  if (!operation) return { depth: 0, cost: 0, aliases: 0, directives: 0 };

  const vars: Record<string, unknown> = { ...(variables ?? {}) };
  for (const v of operation.variableDefinitions ?? []) {
    if (!(v.variable.name.value in vars) && v.defaultValue) vars[v.variable.name.value] = valueFromASTUntyped(v.defaultValue);
  }
  const memo = new Map<string, Stats>();
  for (const name of dependencyOrder(fragments, limits.maxDepth)) {
    const def = fragments.get(name)!;
    memo.set(name, measure(def.selectionSet, schema.getType(def.typeCondition.name.value) ?? null, false));
  }

  function measure(set: SelectionSetNode, parent: GraphQLNamedType | null, root: boolean, nesting = 0): Stats {
    const total: Stats = { depth: 0, cost: 0, aliases: 0, directives: 0 };
    if (nesting > limits.maxDepth) throw new QueryTooDeepError(nesting, limits.maxDepth);
    for (const sel of set.selections) {
      total.directives += sel.directives?.length ?? 0;
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = memo.get(sel.name.value);
        if (f) add(total, f, 1, 0);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) ?? null : parent;
        add(total, measure(sel.selectionSet, type, root, nesting), 1, 0);
      } else {
        add(total, field(sel, parent, root, nesting), 1, 0);
        if (sel.alias) total.aliases += 1;
      }
      // Stop early: a multiplied fragment may overflow any bound long before the walk ends.
      if (total.cost > limits.maxComplexity * 16 || total.aliases > limits.maxAliases * 16) break;
    }
    return total;
  }

  function field(node: FieldNode, parent: GraphQLNamedType | null, root: boolean, nesting: number): Stats {
    const name = node.name.value;
    for (const arg of node.arguments ?? []) boundText(name, arg.name.value, valueOf(arg.value, vars));
    const introspection = name.startsWith('__');
    // `__schema` and `__type` are in no type's getFields(): without their definitions their
    // selections were priced as if of an unknown type (no list multiplier), so 45 aliased inline
    // introspections of the whole schema cost ~2,000 and ran (0.4 CPU-s, megabytes of answer),
    // while the same selection in a fragment on __Schema was priced at 510,795 and refused.
    const def = name === '__schema' ? SchemaMetaFieldDef : name === '__type' ? TypeMetaFieldDef
      : parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
    const own = root ? ROOT_COSTS[name] ?? DEFAULT_ROOT_COST : 1;
    if (!node.selectionSet) return { depth: introspection ? 0 : 1, cost: own, aliases: 0, directives: 0 };
    const child = measure(node.selectionSet, def ? getNamedType(def.type) : null, false, nesting + 1);
    let multiplier = 1;
    if (!introspection) {
      const size = pageSize(node, vars, def);
      if (size != null) multiplier = Math.max(size, 1);
      else if (def && name !== 'edges' && isList(def.type)) multiplier = UNPAGED_LIST;
    }
    // Each representation of `_entities` is a lookup by key (a loader, a visibility check), as a
    // root field is: priced as one, whatever is selected of it. Priced by its selection alone, 27,000
    // representations selecting only __typename (1 MB) passed at 27,000 and took 0.6 CPU-s.
    const each = name === '_entities' ? DEFAULT_ROOT_COST + child.cost : child.cost;
    return {
      depth: introspection ? 0 : 1 + child.depth,
      cost: own + multiplier * each,
      aliases: child.aliases,
      directives: child.directives,
    };
  }

  const rootType = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const stats = measure(operation.selectionSet, rootType ?? null, true);
  stats.directives += operation.directives?.length ?? 0;
  if (stats.depth > limits.maxDepth) throw new QueryTooDeepError(stats.depth, limits.maxDepth);
  if (stats.aliases > limits.maxAliases) {
    throw new QueryTooComplexError(`The operation has more than ${limits.maxAliases} aliased fields.`, { maximum: limits.maxAliases });
  }
  if (stats.directives > limits.maxDirectives) {
    throw new QueryTooComplexError(`The operation has more than ${limits.maxDirectives} directives.`, { maximum: limits.maxDirectives });
  }
  if (stats.cost > limits.maxComplexity) {
    throw new QueryTooComplexError(
      `Query complexity ${Number.isFinite(stats.cost) && stats.cost < 1e15 ? stats.cost : 'beyond 10^15'} exceeds the limit of ${limits.maxComplexity}; ask for smaller pages or fewer nested lists.`,
      { maximum: limits.maxComplexity },
    );
  }
  return stats;
}

/**
 * Refuses a string longer than its bound, or that is not text, anywhere in an argument's value
 * (BAD_USER_INPUT naming where, never echoing it). Walked with a stack of its own: a variable may
 * nest lists as deep as the body allows.
 */
function boundText(field: string, argument: string, value: unknown): void {
  const stack: [string, unknown, number][] = [[argument, value, 0]];
  while (stack.length) {
    const [path, v, depth] = stack.pop()!;
    if (depth > MAX_VALUE_DEPTH) throw new BadUserInputError(`"${argument}" nests values deeper than ${MAX_VALUE_DEPTH} levels.`, argument);
    if (typeof v === 'string') {
      const max = LONG_TEXT[`${field}.${path}`] ?? MAX_TEXT;
      // Named by its path when that is made of field names (keys are the caller's, and never echoed otherwise).
      const where = () => (/^[A-Za-z_][\w.]{0,199}$/.test(path) ? path : argument);
      if (v.length > max) throw new BadUserInputError(`"${where()}" is longer than ${max} characters.`, where());
      // JSON may carry what GraphQL's own string literals may not (the parser refuses "\ud800" in a
      // query): a lone surrogate is no text, and would be stored as U+FFFD; a NUL is no text either.
      if (NOT_TEXT.test(v)) {
        throw new BadUserInputError(`"${where()}" is not text: it holds a NUL character or a lone UTF-16 surrogate.`, where());
      }
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push([path, item, depth + 1]);
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) stack.push([path.length > 200 ? path : `${path}.${k}`, item, depth + 1]);
    }
  }
}

function add(total: Stats, part: Stats, times: number, depthOffset: number): void {
  total.depth = Math.max(total.depth, part.depth + depthOffset);
  total.cost += times * part.cost;
  total.aliases += times * part.aliases;
  total.directives += times * part.directives;
}

function isList(type: unknown): boolean {
  let t = type as any;
  if (isNonNullType(t)) t = t.ofType;
  return isListType(t);
}

/**
 * How many items a list field answers with, where an argument says: `first` (connections), `k`
 * (similarImages), literal or variable; and for federation's `_entities`, one per representation
 * asked for — a gateway (or, without a gateway secret, anyone) may send thousands in one body,
 * each with the selection's whole cost. Null when no argument says.
 */
function pageSize(node: FieldNode, vars: Record<string, unknown>, def?: GraphQLField<unknown, unknown>): number | null {
  for (const arg of node.arguments ?? []) {
    const name = arg.name.value;
    if (name !== 'first' && name !== 'k' && name !== 'representations') continue;
    const value = valueOf(arg.value, vars);
    if (name === 'representations') return Array.isArray(value) ? value.length : null;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  // Not given (or given as a variable left out): the schema's default is what the field answers
  // with. Priced as one item, a connection asked without `first` answered 20 (two nested: 16
  // priced for 400 rows, and more so deeper), so the bound let through 80 times its work.
  for (const arg of def?.args ?? []) {
    if ((arg.name === 'first' || arg.name === 'k') && typeof arg.defaultValue === 'number') return arg.defaultValue;
  }
  return null;
}

function valueOf(node: ValueNode, vars: Record<string, unknown>): unknown {
  return node.kind === Kind.VARIABLE ? vars[node.name.value] : valueFromASTUntyped(node);
}

/**
 * Fragment names, each after every fragment it spreads (iterative depth-first post-order, so a
 * chain of thousands of fragments cannot overflow the stack). Refuses cycles, and fragments
 * nested deeper than the depth limit (measured with an explicit stack for the same reason).
 */
function dependencyOrder(fragments: Map<string, FragmentDefinitionNode>, maxDepth: number): string[] {
  const spreads = new Map<string, string[]>();
  for (const [name, def] of fragments) {
    const found: string[] = [];
    const stack: [SelectionSetNode, number][] = [[def.selectionSet, 0]];
    while (stack.length) {
      const [set, nesting] = stack.pop()!;
      if (nesting > maxDepth) throw new QueryTooDeepError(nesting, maxDepth);
      for (const sel of set.selections) {
        if (sel.kind === Kind.FRAGMENT_SPREAD) found.push(sel.name.value);
        else if (sel.kind === Kind.INLINE_FRAGMENT) stack.push([sel.selectionSet, nesting]);
        else if (sel.selectionSet) stack.push([sel.selectionSet, nesting + 1]);
      }
    }
    spreads.set(name, found);
  }
  const order: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const start of fragments.keys()) {
    if (state.has(start)) continue;
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const children = spreads.get(top.name) ?? [];
      if (top.next < children.length) {
        const child = children[top.next++]!;
        if (!fragments.has(child)) continue;
        const s = state.get(child);
        if (s === 'open') throw new GraphQLError(`Fragment "${child}" spreads itself.`, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
        if (!s) { state.set(child, 'open'); stack.push({ name: child, next: 0 }); }
      } else {
        state.set(top.name, 'done');
        order.push(top.name);
        stack.pop();
      }
    }
  }
  return order;
}

/**
 * The same guard inside Apollo, for operations that reach it by another way than the HTTP route
 * (`executeOperation` in-process): after parsing, before resolvers.
 */
export function queryLimitsPlugin(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          guardOperation(schema, document, limits, request.variables, operationName);
        },
      };
    },
  };
}
