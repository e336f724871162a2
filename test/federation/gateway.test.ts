import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EntityManager } from '@mikro-orm/knex';
import { ReleaseState } from '../../src/domain.js';
import { makeCollection } from '../support/kit.js';
import { startStack, type Stack } from './stack.js';

const OVARIAN_CT = /* GraphQL */ `{
  individuals(first: 200, filter: { disease: "ovarian cancer", modality: ["CT"] }) {
    totalCount
    edges { node {
      accession disease gsaHumanAccession
      studies { series { modality } }
      gsaHuman { accession dataset { accession accessType } experiments { platform libraryStrategy } runs { accession platform fileSize } }
    } }
  }
}`;

const BIOPROJECT = /* GraphQL */ `query ($acc: String!) {
  bioProject(accession: $acc) {
    accession title relevance organism { name taxonomyId } dataTypes grants { agency number } releaseDate
    imagingCollections { accession disease seriesCountsByModality { modality series images } }
    imagingCounts { collections individuals studies series images }
  }
}`;

describe('through the gateway, over HTTP', () => {
  let stack: Stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  it('(a) finds ovarian cancer individuals with CT series, with their GSA-Human runs and platforms', async () => {
    const res = await stack.viaGateway(OVARIAN_CT);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const nodes = res.data.individuals.edges.map((e: any) => e.node);
    assert.ok(nodes.length > 0);
    const direct = await stack.hub.gql(`{ individuals(first: 200, filter: { disease: "ovarian cancer", modality: ["CT"] }) { totalCount } }`);
    assert.equal(res.data.individuals.totalCount, direct.data.individuals.totalCount);
    let linked = 0;
    for (const n of nodes) {
      assert.equal(n.disease, 'ovarian cancer');
      assert.ok(n.studies.some((s: any) => s.series.some((x: any) => x.modality === 'CT')), `${n.accession} has a CT series`);
      if (!n.gsaHumanAccession) { assert.equal(n.gsaHuman, null); continue; }
      linked++;
      assert.equal(n.gsaHuman.accession, n.gsaHumanAccession);
      assert.equal(n.gsaHuman.dataset.accession, 'HRA003702');
      assert.equal(n.gsaHuman.dataset.accessType, 'CONTROLLED');
      assert.ok(n.gsaHuman.runs.length > 0);
      for (const run of n.gsaHuman.runs) {
        assert.match(run.accession, /^HRR\d{6}$/);
        assert.ok(run.platform.length > 0 && run.fileSize > 0);
      }
    }
    assert.ok(linked > 0, 'some of them link GSA-Human');
  });

  it('(b) goes from BioProject PRJCA013582 to its imaging collections and series counts per modality', async () => {
    const res = await stack.viaGateway(BIOPROJECT, { acc: 'PRJCA013582' });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const bp = res.data.bioProject;
    assert.match(bp.title, /ovarian cancer/i);
    assert.deepEqual(bp.organism, { name: 'Homo sapiens', taxonomyId: 9606 });
    assert.deepEqual(bp.imagingCollections.map((c: any) => c.accession), ['OBIA0002']);
    const stats = await stack.hub.gql(`{ statistics(filter: { collection: ["OBIA0002"] }) { total { studies series images } byModality { key series images } } }`);
    const byModality = bp.imagingCollections[0].seriesCountsByModality;
    assert.deepEqual(byModality.map((m: any) => [m.modality, m.series, m.images]), stats.data.statistics.byModality.map((m: any) => [m.key, m.series, m.images]));
    assert.equal(bp.imagingCounts.collections, 1);
    assert.equal(bp.imagingCounts.series, stats.data.statistics.total.series);
    assert.equal(bp.imagingCounts.images, stats.data.statistics.total.images);
  });

  it('(c) goes from a GSA-Human individual to its imaging studies', async () => {
    const direct = await stack.hub.gql(`{ individuals(first: 1, filter: { hasGsaHumanLink: true }) { edges { node { accession gsaHumanAccession studies { accession } } } } }`);
    const individual = direct.data.individuals.edges[0].node;
    const res = await stack.viaGateway(`query ($acc: String!) {
      gsaHumanIndividual(accession: $acc) {
        accession individualName bioSamples dataset { accession }
        imagingIndividual { accession studies { accession modalities series { modality } } }
        imagingCounts { studies series images }
      }
    }`, { acc: individual.gsaHumanAccession });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const gsa = res.data.gsaHumanIndividual;
    assert.equal(gsa.accession, individual.gsaHumanAccession);
    assert.match(gsa.dataset.accession, /^HRA00370[1-4]$/);
    assert.equal(gsa.imagingIndividual.accession, individual.accession);
    assert.deepEqual(gsa.imagingIndividual.studies.map((s: any) => s.accession), individual.studies.map((s: any) => s.accession));
    assert.equal(gsa.imagingCounts.studies, individual.studies.length);
    assert.equal(gsa.imagingCounts.series, gsa.imagingIndividual.studies.reduce((n: number, s: any) => n + s.series.length, 0));
  });

  it('returns null for records the sources do not hold', async () => {
    const res = await stack.viaGateway(`{ bioProject(accession: "PRJNA000000") { title } gsaHumanIndividual(accession: "HRI999999") { accession imagingIndividual { accession } } }`);
    assert.equal(res.errors, undefined);
    assert.deepEqual(res.data, { bioProject: null, gsaHumanIndividual: null });
  });

  it('applies the hub\'s visibility rules to the caller the gateway forwards', async () => {
    const draft = await makeCollection(stack.hub.orm.em as EntityManager, { releaseState: ReleaseState.DRAFT, submitter: 'alice' });
    await (stack.hub.orm.em as EntityManager).getKnex()('collection').where({ id: draft.id }).update({ bio_project_accession: 'PRJCA013582' });
    const query = `{ bioProject(accession: "PRJCA013582") { imagingCollections { accession } imagingCounts { collections } } }`;
    const anonymous = await stack.viaGateway(query);
    assert.deepEqual(anonymous.data.bioProject.imagingCollections.map((c: any) => c.accession), ['OBIA0002']);
    const alice = await stack.viaGateway(query, undefined, await stack.hub.token('alice'));
    assert.deepEqual(alice.data.bioProject.imagingCollections.map((c: any) => c.accession), ['OBIA0002', draft.accession]);
    assert.equal(alice.data.bioProject.imagingCounts.collections, 2);
    const bob = await stack.viaGateway(query, undefined, await stack.hub.token('bob'));
    assert.equal(bob.data.bioProject.imagingCounts.collections, 1);
  });
});
