/**
 * The hub `npm run bench:reliability` abuses, in a process of its own (so the load generator
 * does not share its event loop): the very app `npm start` runs, seeded, with one released open
 * collection whose images have real stored files. Prints one JSON line (its URL, tokens and that
 * collection) once it listens, on 127.0.0.1 only, and runs until its parent ends it.
 */
import 'reflect-metadata';
import http from 'node:http';
import { bootstrap } from '../src/app.js';
import { Role } from '../src/auth/Principal.js';
import { Accessibility, ReleaseState } from '../src/domain.js';
import { collectionWithFiles } from '../test/access/support.js';

// bootstrap() takes no listen address and binds every interface; a benchmark's hub must stay on
// loopback, so every server this process starts is bound to 127.0.0.1 (number or options form).
const listen: (...args: any[]) => http.Server = http.Server.prototype.listen;
http.Server.prototype.listen = function (this: http.Server, ...args: any[]) {
  if (typeof args[0] === 'number' || args[0] === undefined) return listen.call(this, args[0] ?? 0, '127.0.0.1', ...args.slice(typeof args[1] === 'string' ? 2 : 1));
  if (typeof args[0] === 'object' && args[0] !== null) return listen.call(this, { ...args[0], host: '127.0.0.1' }, ...args.slice(1));
  return listen.apply(this, args);
} as any;

async function main() {
  const scale = Number(process.env.BENCH_SCALE ?? 0.02);
  const app = await bootstrap({ listen: false, seedIfEmpty: { scale }, log: () => {} });
  const files = await collectionWithFiles(app as any, { accessibility: Accessibility.OPEN, releaseState: ReleaseState.RELEASED, title: 'reliability bench' },
    { individuals: 1, studies: 1, series: 2, images: 10 });
  const tokens = {
    submitter: await app.issuer.issue({ sub: 'bench-submitter', roles: [Role.SUBMITTER] }),
    researcher: await app.issuer.issue({ sub: 'bench-researcher', roles: [Role.RESEARCHER] }),
    curator: await app.issuer.issue({ sub: 'bench-curator', roles: [Role.CURATOR] }),
  };
  // Submitters of one bomb each: what a submitter sent stays staged (quarantined files included)
  // and counts against their quota, so a bomb abuse that reused one submitter would measure the
  // quota's refusal after a dozen rounds instead of the decoding it is there to measure.
  const bombers = await Promise.all(Array.from({ length: Number(process.env.BENCH_BOMBERS ?? 200) }, (_, i) => app.issuer.issue({ sub: `bench-bomber-${i}`, roles: [Role.SUBMITTER] })));
  const sha = (uid: string) => require('node:crypto').createHash('sha256').update(files.bytes.get(uid)!).digest('hex');
  const uids = [...files.bytes.keys()];
  process.stdout.write(`${JSON.stringify({
    url: app.url, pid: process.pid, tokens, bombers, dataDir: app.config.dataDir, backupDir: app.config.backupDir,
    collection: { accession: files.accession, series: files.series, images: uids.map((uid) => ({ uid, sha256: sha(uid) })) },
  })}\n`);
  // The bench asks for a collected heap before it reads memory (node --expose-gc), so what it
  // compares is what the hub holds, not garbage not yet collected.
  process.on('SIGUSR2', () => {
    (globalThis as any).gc?.();
    process.stdout.write(`${JSON.stringify({ memory: process.memoryUsage() })}\n`);
  });
  const stop = async () => {
    // Shutting down: an error from a server already closing is no reason to fail the bench.
    process.on('uncaughtException', () => process.exit(0));
    try { await app.close(); } finally { app.server.close(); process.exit(0); }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => { console.error(err); process.exit(1); });
