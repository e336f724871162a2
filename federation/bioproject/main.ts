/** `node dist/federation/bioproject/main.js`: the reference BioProject subgraph on BIOPROJECT_PORT (4002). */
import { startBioProjectSubgraph } from './server.js';

startBioProjectSubgraph({ port: Number(process.env.BIOPROJECT_PORT ?? 4002) }).then((s) => {
  console.log(`BioProject subgraph at ${s.url}`);
  const stop = () => s.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}, (err) => { console.error(err); process.exit(1); });
