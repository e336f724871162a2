/** `npm run schema`: writes the SDL the code produces to schema/obia.graphql (checked in; a test fails on drift). */
import fs from 'node:fs';
import path from 'node:path';
import { printObiaSchema } from '../src/graphql/schema.js';

printObiaSchema().then((sdl) => {
  const file = path.resolve(__dirname, '../../schema/obia.graphql');
  fs.writeFileSync(file, sdl);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
});
