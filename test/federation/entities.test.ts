import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { EntityManager } from '@mikro-orm/knex';
import { Role } from '../../src/auth/Principal.js';
import { ReleaseState } from '../../src/domain.js';
import { GATEWAY_SECRET_HEADER } from '../../src/graphql/federation.js';
import { makeCollection } from '../support/kit.js';
import { post, SECRET, SEED_SCALE } from './stack.js';
import { startTestApp, type TestApp } from '../support/app.js';

const ENTITIES = /* GraphQL */ `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Collection { accession title bioProject { accession } }
    ... on Individual { accession disease gsaHuman { accession } }
    ... on Study { accession studyDate }
    ... on Series { uid modality }
    ... on Image { uid size }
    ... on BioProject { accession imagingCounts { collections } }
    ... on GsaHumanIndividual { accession imagingIndividual { accession } }
  }
}`;

type Rep = Record<string, string>;

describe('_entities on the hub', () => {
  let app: TestApp;
  let knex: ReturnType<EntityManager['getKnex']>;
  const asGateway = (variables: Record<string, unknown>, token?: string) =>
    post(`${app.url}/graphql`, ENTITIES, variables, { [GATEWAY_SECRET_HEADER]: SECRET, ...(token ? { authorization: `Bearer ${token}` } : {}) });

  before(async () => {
    app = await startTestApp({ seedScale: SEED_SCALE, config: { gatewaySecret: SECRET } });
    knex = (app.orm.em as EntityManager).getKnex();
  });
  after(async () => { await app?.stop(); });

  /** Distinct representations of every keyed type, in proportions like a gateway fetch's. */
  async function representations(n: number): Promise<Rep[]> {
    const take = async (table: string, column: string, typename: string, key: string, count: number) =>
      (await knex(table).select(column).orderBy('id').limit(count)).map((r: any) => ({ __typename: typename, [key]: r[column] }));
    const reps = [
      ...(await take('collection', 'accession', 'Collection', 'accession', 4)),
      ...(await take('individual', 'accession', 'Individual', 'accession', Math.min(16, Math.floor(n / 10)))),
      ...(await take('study', 'accession', 'Study', 'accession', Math.floor(n / 8))),
      ...(await take('series', 'uid', 'Series', 'uid', Math.floor(n / 4))),
    ];
    return [...reps, ...(await take('image', 'uid', 'Image', 'uid', n - reps.length))];
  }

  it('round-trips every entity type, in order, with null for unknown keys', async () => {
    const [collection] = await knex('collection').select('accession', 'bio_project_accession').orderBy('id').limit(1);
    const [individual] = await knex('individual').select('accession', 'gsa_human_accession').whereNotNull('gsa_human_accession').limit(1);
    const [study] = await knex('study').select('accession').limit(1);
    const [series] = await knex('series').select('uid', 'modality').limit(1);
    const [image] = await knex('image').select('uid').limit(1);
    const reps = [
      { __typename: 'Collection', accession: collection.accession },
      { __typename: 'Individual', accession: individual.accession },
      { __typename: 'Study', accession: study.accession },
      { __typename: 'Series', uid: series.uid },
      { __typename: 'Image', uid: image.uid },
      { __typename: 'Collection', accession: 'OBIA9999' },
      { __typename: 'BioProject', accession: 'PRJCA013582' },
      { __typename: 'GsaHumanIndividual', accession: individual.gsa_human_accession },
    ];
    const res = await asGateway({ representations: reps });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const out = res.data._entities;
    assert.deepEqual(out.map((e: any) => e?.__typename ?? null), ['Collection', 'Individual', 'Study', 'Series', 'Image', null, 'BioProject', 'GsaHumanIndividual']);
    assert.equal(out[0].accession, collection.accession);
    assert.deepEqual(out[0].bioProject, { accession: collection.bio_project_accession });
    assert.deepEqual(out[1].gsaHuman, { accession: individual.gsa_human_accession });
    assert.equal(out[2].accession, study.accession);
    assert.equal(out[3].modality, series.modality);
    assert.equal(out[4].uid, image.uid);
    assert.deepEqual(out[6].imagingCounts, { collections: 1 });
    assert.deepEqual(out[7].imagingIndividual, { accession: individual.accession });
  });

  it('resolves 500 representations in as many SQL statements as 50', async () => {
    const counts: Record<number, number> = {};
    // One request first, uncounted: opening pool connections and recording the gateway's principal are not per representation.
    await asGateway({ representations: await representations(50) });
    for (const n of [50, 500]) {
      const reps = await representations(n);
      assert.equal(reps.length, n);
      let res: any;
      counts[n] = await app.countQueries(async () => { res = await asGateway({ representations: reps }); });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.equal(res.data._entities.filter((e: any) => e).length, n);
    }
    console.log(`# hub SQL statements for _entities: ${counts[50]} for 50 representations, ${counts[500]} for 500`);
    assert.equal(counts[500], counts[50]);
    assert.ok(counts[500]! <= 7, `one statement per keyed type and per "has a visible series" check, got ${counts[500]}`);
  });

  it('hides unreleased collections and everything under them from those who may not see them', async () => {
    const draft = await makeCollection(app.orm.em as EntityManager, { releaseState: ReleaseState.DRAFT, submitter: 'carol' });
    const [individual] = await knex('individual').select('accession').where({ collection_id: draft.id });
    const [series] = await knex('series').select('uid').where({ collection_id: draft.id });
    const [image] = await knex('image').select('image.uid').join('series', 'series.id', 'image.series_id').where('series.collection_id', draft.id);
    const reps = [
      { __typename: 'Collection', accession: draft.accession }, { __typename: 'Individual', accession: individual.accession },
      { __typename: 'Series', uid: series.uid }, { __typename: 'Image', uid: image.uid },
    ];
    const anonymous = await asGateway({ representations: reps });
    assert.deepEqual(anonymous.data._entities, [null, null, null, null]);
    const other = await asGateway({ representations: reps }, await app.token('dave'));
    assert.deepEqual(other.data._entities, [null, null, null, null]);
    for (const token of [await app.token('carol'), await app.token('erin', Role.CURATOR)]) {
      const seen = await asGateway({ representations: reps }, token);
      assert.deepEqual(seen.data._entities.map((e: any) => e?.__typename), ['Collection', 'Individual', 'Series', 'Image']);
    }
  });

  it('refuses _entities and _service without the gateway secret or an admin token', async () => {
    const url = `${app.url}/graphql`;
    const reps = { representations: [{ __typename: 'Collection', accession: 'OBIA0001' }] };
    for (const [query, variables] of [[ENTITIES, reps], ['{ _service { sdl } }', undefined]] as const) {
      const anonymous = await post(url, query, variables);
      assert.equal(anonymous.status, 403);
      assert.equal(anonymous.errors?.[0].extensions.code, 'FORBIDDEN');
      const wrong = await post(url, query, variables, { [GATEWAY_SECRET_HEADER]: 'not-the-secret' });
      assert.equal(wrong.status, 403);
      const researcher = await post(url, query, variables, { authorization: `Bearer ${await app.token('frank')}` });
      assert.equal(researcher.status, 403);
      const admin = await post(url, query, variables, { authorization: `Bearer ${await app.token('root', Role.ADMIN)}` });
      assert.equal(admin.errors, undefined, JSON.stringify(admin.errors));
      const gateway = await post(url, query, variables, { [GATEWAY_SECRET_HEADER]: SECRET });
      assert.equal(gateway.errors, undefined);
    }
    // Hidden in a fragment, still refused; ordinary queries need no secret.
    const sneaky = await post(url, `query { ...F } fragment F on Query { _service { sdl } }`);
    assert.equal(sneaky.status, 403);
    const plain = await post(url, `{ collection(accession: "OBIA0001") { accession } }`);
    assert.equal(plain.data.collection.accession, 'OBIA0001');
  });

  it('refuses them over graphql-ws too, where no gateway header exists', async () => {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const result: any = await new Promise((resolve, reject) => {
        let last: unknown;
        client.subscribe({ query: '{ _service { sdl } }' }, { next: (v) => { last = v; }, error: reject, complete: () => resolve(last) });
      });
      assert.equal(result.errors?.[0].extensions.code, 'FORBIDDEN');
      assert.equal(result.data?._service ?? null, null);
    } finally {
      await client.dispose();
    }
  });
});
