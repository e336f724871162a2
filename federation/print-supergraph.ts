/** `npm run supergraph`: writes schema/supergraph.graphql (checked in; a test fails on drift). */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { composeSupergraph } from './composition.js';

composeSupergraph().then((sdl) => {
  const file = path.resolve(__dirname, '../../schema/supergraph.graphql');
  fs.writeFileSync(file, sdl);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}, (err) => { console.error(err.message ?? err); process.exit(1); });
