import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { composeSupergraph } from '../../federation/composition.js';
import { noDatabase } from '../support/once.js';

noDatabase("composes the subgraphs' schemas");

describe('the composed supergraph', () => {
  it('composes without errors and matches schema/supergraph.graphql (run `npm run supergraph` after changing a subgraph)', async () => {
    const sdl = await composeSupergraph();
    const file = path.resolve(process.cwd(), 'schema/supergraph.graphql');
    assert.equal(fs.readFileSync(file, 'utf8'), sdl);
  });

  it('joins the genomic types across the hub and their owners', async () => {
    const sdl = await composeSupergraph();
    assert.match(sdl, /type BioProject\n\s+@join__type\(graph: BIOPROJECT, key: "accession"\)\n\s+@join__type\(graph: HUB, key: "accession"\)/);
    assert.match(sdl, /type GsaHumanIndividual\n\s+@join__type\(graph: GSA_HUMAN, key: "accession"\)\n\s+@join__type\(graph: HUB, key: "accession"\)/);
    assert.match(sdl, /imagingCollections: \[Collection!\]! @join__field\(graph: HUB\)/);
    for (const [type, key] of [['Collection', 'accession'], ['Individual', 'accession'], ['Study', 'accession'], ['Series', 'uid'], ['Image', 'uid']]) {
      assert.match(sdl, new RegExp(`type ${type}\\n\\s+@join__type\\(graph: HUB, key: "${key}"\\)`), `${type} is an entity keyed by ${key}`);
    }
  });
});
