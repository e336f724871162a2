/** `node dist/federation/gsa-human/main.js`: the reference GSA-Human subgraph on GSA_HUMAN_PORT (4003). */
import { startGsaHumanSubgraph } from './server.js';
import { installProcessFaultHandlers } from '../../src/http/processFaults.js';
import { logger } from '../../src/log.js';

let server: { stop(): Promise<unknown> } | null = null;
// As the hub: a stray rejection is logged and serving goes on; an uncaught exception drains and exits 1 (src/http/processFaults.ts).
installProcessFaultHandlers({ log: logger, drain: async () => { await server?.stop(); } });

startGsaHumanSubgraph({ port: Number(process.env.GSA_HUMAN_PORT ?? 4003) }).then((s) => {
  server = s;
  console.log(`GSA-Human subgraph at ${s.url}`);
  const stop = () => s.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, (err) => { console.error(err); process.exit(1); });
