/** `node dist/federation/bioproject/main.js`: the reference BioProject subgraph on BIOPROJECT_PORT (4002). */
import { startBioProjectSubgraph } from './server.js';
import { installProcessFaultHandlers } from '../../src/http/processFaults.js';
import { logger } from '../../src/log.js';

let server: { stop(): Promise<unknown> } | null = null;
// As the hub: a stray rejection is logged and serving goes on; an uncaught exception drains and exits 1 (src/http/processFaults.ts).
installProcessFaultHandlers({ log: logger, drain: async () => { await server?.stop(); } });

startBioProjectSubgraph({ port: Number(process.env.BIOPROJECT_PORT ?? 4002) }).then((s) => {
  server = s;
  console.log(`BioProject subgraph at ${s.url}`);
  const stop = () => s.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, (err) => { console.error(err); process.exit(1); });
