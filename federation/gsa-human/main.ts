/** `node dist/federation/gsa-human/main.js`: the reference GSA-Human subgraph on GSA_HUMAN_PORT (4003). */
import { startGsaHumanSubgraph } from './server.js';

startGsaHumanSubgraph({ port: Number(process.env.GSA_HUMAN_PORT ?? 4003) }).then((s) => {
  console.log(`GSA-Human subgraph at ${s.url}`);
  const stop = () => s.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, (err) => { console.error(err); process.exit(1); });
