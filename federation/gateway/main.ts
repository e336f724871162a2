/**
 * `npm run gateway`: one command, four processes, for local use. Starts the hub (embedded
 * SQLite, seeded on first start) on HUB_PORT, the reference BioProject and GSA-Human subgraphs
 * on BIOPROJECT_PORT and GSA_HUMAN_PORT, and then the gateway itself, in this process, on
 * GATEWAY_PORT, over the checked-in schema/supergraph.graphql. With HUB_URLS (comma-separated
 * GraphQL URLs of hub replicas started on their own, docs/scale.md) it starts no hub and shares
 * the hub's requests among those.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { installProcessFaultHandlers } from '../../src/http/processFaults.js';
import { logger } from '../../src/log.js';
import { startGateway } from './gateway.js';

const ports = {
  gateway: Number(process.env.GATEWAY_PORT ?? 4000),
  hub: Number(process.env.HUB_PORT ?? 4001),
  bioproject: Number(process.env.BIOPROJECT_PORT ?? 4002),
  gsaHuman: Number(process.env.GSA_HUMAN_PORT ?? 4003),
};
// The hub refuses _entities to anyone without it; a fresh one per run unless given.
const secret = process.env.OBIA_GATEWAY_SECRET || crypto.randomBytes(24).toString('hex');
const dist = path.resolve(__dirname, '../..');
const children: ChildProcess[] = [];

function start(name: string, script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(dist, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) => chunk.toString().trimEnd().split('\n').map((l) => `[${name}] ${l}`).join('\n');
  child.stdout!.on('data', (d: Buffer) => console.log(prefix(d)));
  child.stderr!.on('data', (d: Buffer) => console.error(prefix(d)));
  child.on('exit', (code) => {
    if (!stopping) { console.error(`[${name}] exited with ${code}; stopping`); stop(1); }
  });
  children.push(child);
}

/** Polls until the subgraph answers a trivial query: the hub seeds on first start, which takes a while. */
async function ready(url: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not come up in ${timeoutMs / 1000} s`);
}

let gatewayStop: (() => Promise<unknown>) | null = null;
// As the hub: a stray rejection is logged and the gateway keeps serving; an uncaught exception
// stops the gateway and its children and exits 1 (src/http/processFaults.ts).
installProcessFaultHandlers({ log: logger, drain: async () => { await gatewayStop?.(); stop(1); } });

let stopping = false;
function stop(code: number) {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}

async function main() {
  const hubs = (process.env.HUB_URLS ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  const urls = {
    hub: hubs.length ? hubs : `http://localhost:${ports.hub}/graphql`,
    bioproject: `http://localhost:${ports.bioproject}/`,
    'gsa-human': `http://localhost:${ports.gsaHuman}/`,
  };
  if (!hubs.length) start('hub', 'src/server.js', { PORT: String(ports.hub), OBIA_GATEWAY_SECRET: secret });
  start('bioproject', 'federation/bioproject/main.js', { BIOPROJECT_PORT: String(ports.bioproject) });
  start('gsa-human', 'federation/gsa-human/main.js', { GSA_HUMAN_PORT: String(ports.gsaHuman) });
  await Promise.all(Object.values(urls).flat().map((u) => ready(u)));
  const supergraphSdl = fs.readFileSync(path.resolve(dist, '../schema/supergraph.graphql'), 'utf8');
  const gateway = await startGateway({ port: ports.gateway, supergraphSdl, urls, hubSecret: secret });
  gatewayStop = () => gateway.stop();
  console.log(`gateway at ${gateway.url} (hub ${urls.hub}, BioProject ${urls.bioproject}, GSA-Human ${urls['gsa-human']})`);
  process.once('SIGINT', () => gateway.stop().finally(() => stop(0)));
  process.once('SIGTERM', () => gateway.stop().finally(() => stop(0)));
}

main().catch((err) => { console.error(err.message ?? err); stop(1); });
