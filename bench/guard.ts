/**
 * `npm run bench:guard`: CPU per operation of the GraphQL guard (src/graphql/limits.ts) on the
 * hostile documents of issue 21 and on an ordinary portal query, and what graphql-js validation
 * (what used to run before any limit) costs on the same fragment bomb at a smaller size.
 * No server, no database: the guard is pure CPU, so CPU time is the figure.
 */
import 'reflect-metadata';
import { Kind, parse, validate, type DocumentNode, type FragmentDefinitionNode, type GraphQLError, type SelectionSetNode } from 'graphql';
import { loadConfig } from '../src/config.js';
import { buildObiaSchema } from '../src/graphql/schema.js';
import { guardOperation, parseLimited } from '../src/graphql/limits.js';

const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
function doubling(n: number): string {
  let doc = 'query { ...F0 }';
  for (let i = 0; i < n; i++) doc += ` fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`;
  return doc + ` fragment F${n} on Query { collections(first: 1) { totalCount } }`;
}
function chain(n: number): string {
  let doc = 'query { ...F0 }';
  for (let i = 0; i < n; i++) doc += ` fragment F${i} on Query { ...F${i + 1} }`;
  return doc + ` fragment F${n} on Query { __typename }`;
}

/** CPU milliseconds (user + system) per call of fn, over enough calls to take ~200 ms of CPU. */
function cpuPerCall(fn: () => unknown): number {
  let n = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < 200_000 || n < 3) {
    fn();
    n++;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  }
  return used / 1000 / n;
}

/** The depth walk the guard replaced, kept here only to measure what it cost: every spread re-walked. */
function unmemoizedDepth(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
    if (!set) return 0;
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) max = Math.max(max, sel.name.value.startsWith('__') ? 0 : 1 + depthOf(sel.selectionSet, seen));
      else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(sel.selectionSet, seen));
      else if (!seen.has(sel.name.value)) max = Math.max(max, depthOf(fragments.get(sel.name.value)?.selectionSet, new Set([...seen, sel.name.value])));
    }
    return max;
  };
  let max = 0;
  for (const def of document.definitions) if (def.kind === Kind.OPERATION_DEFINITION) max = Math.max(max, depthOf(def.selectionSet, new Set()));
  return max;
}

async function main() {
  const schema = await buildObiaSchema();
  const limits = loadConfig().limits;
  const guard = (source: string) => () => {
    try { guardOperation(schema, parseLimited(source, limits), limits); return 'accepted'; } catch (err) { return (err as GraphQLError).extensions?.code ?? String(err); }
  };
  const ordinary = `query($f: BrowseFilterInput) { collections(first: 20, filter: $f) { totalCount edges { node { accession title individuals(first: 10) { edges { node { accession studies { accession series { uid modality imageCount } } } } } } } } }`;
  const cases: [string, string][] = [
    ['ordinary portal page (collections → individuals → studies → series)', ordinary],
    ['2,000,000 aliases of __typename (28 MB; HTTP refuses it at the 1 MB body limit, unread)', aliases(2_000_000, '__typename')],
    ['45,000 aliases (just under 1 MB): token limit while parsing', aliases(45_000, '__typename')],
    ['5,000 aliases of __typename', aliases(5_000, '__typename')],
    ['22 fragments, each spreading the next twice (864 bytes)', doubling(22)],
    ['3,000 chained fragments', chain(3_000)],
    ['3,300 aliased statistics', aliases(3_300, 'statistics { total { images } }')],
    ['2,000 aliased similarImages', aliases(2_000, 'similarImages(image: { uid: "1.2.3" }, k: 30) { distance }')],
  ];
  let base = 0;
  console.log(`guard CPU per operation (${process.arch}, Node ${process.version}); ratio = hostile / ordinary`);
  for (const [name, source] of cases) {
    const outcome = guard(source)();
    const ms = cpuPerCall(guard(source));
    if (source === ordinary) base = ms;
    console.log(`${ms.toFixed(3).padStart(9)} ms  ×${(ms / base).toFixed(1).padStart(7)}  ${String(outcome).padEnd(18)} ${name} (${(source.length / 1024).toFixed(1)} KB)`);
  }
  // What the fragment bomb cost before: the depth walk without a memo (re-walks each spread; ×2 per fragment).
  for (const n of [12, 14, 16]) {
    const doc = parse(doubling(n));
    const ms = cpuPerCall(() => unmemoizedDepth(doc));
    console.log(`${ms.toFixed(3).padStart(9)} ms  the pre-issue-21 depth walk (no memo) on ${n} doubling fragments (22 would be ~${(ms * 2 ** (22 - n)).toFixed(0)} ms)`);
  }
  const doc = parse(doubling(12));
  console.log(`${cpuPerCall(() => validate(schema, doc)).toFixed(3).padStart(9)} ms  graphql-js validate() of 12 doubling fragments (for scale)`);
}

main().catch((err) => { console.error(err); process.exit(1); });
