// Issue 21, points 6 and 7, as a submitter's client meets them: processSubmission starts the run
// and answers with the submission as it is now; progress is followed over submissionProgress,
// whose first event is the current state; a submission's files are a connection with a state
// filter; every id is an ID (the numeric string form, or an Int literal) and a malformed one is
// BAD_USER_INPUT without its value echoed back.
import type { EntityManager } from '@mikro-orm/knex';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from '../../src/auth/Principal.js';
import { loadConfig } from '../../src/config.js';
import { FILE_LIST_MAX, MAX_OPEN_SUBMISSIONS } from '../../src/ingest/SubmissionService.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { processToEnd } from '../support/kit.js';
import { createSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';

describe('a submission over the API', () => {
  let app: TestApp;
  let token: string;
  let sub: { id: string; uploadUrl: string };

  before(async () => {
    app = await startTestApp();
    token = await submitter(app, 'api-submitter');
    sub = await createSubmission(app, token, { title: 'Five slices and a broken file' });
    const [study, series] = [uid(), uid()];
    for (let i = 1; i <= 5; i++) {
      const res = await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'API-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i }), `slice-${i}.dcm`);
      assert.equal(res.status, 201);
    }
    assert.equal((await upload(app, token, sub.uploadUrl, Buffer.from('not DICOM at all'), 'notes.txt')).status, 201);
  });
  after(async () => app?.stop());

  it('processSubmission answers while the run is under way, and the run ends on submissionProgress', async () => {
    assert.match(sub.id, /^[1-9]\d*$/, 'Submission.id is an ID: the numeric string form');
    // PROCESSED is written only when the run ends, so a mutation that waited for the run could
    // not answer PROCESSING; the answer also counts files not yet through the pipeline.
    const started = await app.gql('mutation($s: ID!) { processSubmission(submission: $s) { id state progress { state total } } }', { s: sub.id }, token);
    assert.equal(started.errors, undefined, JSON.stringify(started.errors));
    assert.deepEqual(started.data.processSubmission, { id: sub.id, state: 'PROCESSING', progress: { state: 'PROCESSING', total: 6 } });
    const outcome = await processToEnd(app, token, sub.id);
    assert.deepEqual(outcome, { ingested: 5, quarantined: 1, duplicates: 0, pending: 0, unmatchedClinicalRecords: 0 });
  });

  it('a client that subscribes after the run ended gets the final state as the first event', async () => {
    const client = createClient({ url: `${app.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } });
    try {
      const first = await new Promise<any>((resolve, reject) => {
        client.subscribe({ query: 'subscription($s: ID!) { submissionProgress(submission: $s) { submissionId state total counts { state count } } }', variables: { s: sub.id } },
          { next: resolve, error: reject, complete: () => reject(new Error('ended without an event')) });
      });
      const p = first.data.submissionProgress;
      assert.deepEqual([p.submissionId, p.state, p.total], [sub.id, 'PROCESSED', 6]);
      assert.deepEqual(p.counts.filter((c: any) => c.count), [{ state: 'INDEXED', count: 5 }, { state: 'QUARANTINED', count: 1 }]);
    } finally {
      await client.dispose();
    }
  });

  it('pages its files with first/after and filters them by state', async () => {
    const page = async (variables: Record<string, unknown>) => {
      const res = await app.gql(`query($id: ID!, $first: Int, $after: String, $state: [FileState!]) { submission(id: $id) {
        files(first: $first, after: $after, state: $state) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id originalName state quarantineReason } } } } }`,
      { id: sub.id, ...variables }, token);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data.submission.files;
    };
    const one = await page({ first: 4 });
    assert.equal(one.totalCount, 6);
    assert.deepEqual(one.edges.map((e: any) => e.node.originalName), ['slice-1.dcm', 'slice-2.dcm', 'slice-3.dcm', 'slice-4.dcm'], 'in the order received');
    assert.equal(one.pageInfo.hasNextPage, true);
    const two = await page({ first: 4, after: one.pageInfo.endCursor });
    assert.deepEqual(two.edges.map((e: any) => e.node.originalName), ['slice-5.dcm', 'notes.txt']);
    assert.equal(two.pageInfo.hasNextPage, false);
    const quarantined = await page({ state: ['QUARANTINED'] });
    assert.equal(quarantined.totalCount, 1);
    assert.equal(quarantined.edges[0].node.originalName, 'notes.txt');
    assert.ok(quarantined.edges[0].node.quarantineReason, 'with its reason');
    assert.match(quarantined.edges[0].node.id, /^[1-9]\d*$/, 'SubmissionFile.id is an ID');
    assert.equal((await page({ state: ['INDEXED', 'DUPLICATE'] })).totalCount, 5);
    const alien = await app.gql('query($id: ID!) { submission(id: $id) { files(after: "c2VyaWVzOjE") { totalCount } } }', { id: sub.id }, token);
    assert.equal(alien.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', 'a cursor of another list is refused');
  });

  it('takes an id as the numeric string or an Int literal, and refuses a malformed one without echoing it', async () => {
    assert.equal((await app.gql(`{ submission(id: ${sub.id}) { id } }`, {}, token)).data.submission.id, sub.id);
    const huge = `${'9'.repeat(30)}<script>`;
    for (const [query, variables] of [
      ['query($id: ID!) { submission(id: $id) { id } }', { id: huge }],
      ['mutation($s: ID!) { processSubmission(submission: $s) { id } }', { s: huge }],
      ['mutation($f: ID!) { resolveQuarantined(file: $f, action: DISCARD) { id } }', { f: '-1' }],
      ['query { submission(id: "12abc") { id } }', {}],
    ] as const) {
      const res = await app.gql(query, variables, token);
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', query);
      assert.ok(!JSON.stringify(res.errors).includes('<script>') && !JSON.stringify(res.errors).includes('12abc'), 'the value is not echoed');
    }
  });

  it('hides a submission that is not yours the same way as one that does not exist', async () => {
    const stranger = await app.token('api-stranger', Role.SUBMITTER);
    for (const id of [sub.id, '987654321']) {
      assert.equal((await app.gql('query($id: ID!) { submission(id: $id) { id } }', { id }, stranger)).data.submission, null, id);
      const run = await app.gql('mutation($s: ID!) { processSubmission(submission: $s) { id } }', { s: id }, stranger);
      assert.equal(run.errors?.[0]?.extensions?.code, 'FORBIDDEN', id);
    }
    assert.equal((await app.gql('mutation($s: ID!) { processSubmission(submission: $s) { id } }', { s: sub.id }, null)).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('still answers the names of the previous release (startProcessing, fileList), marked deprecated', async () => {
    const res = await app.gql('mutation($s: ID!) { startProcessing(submission: $s) { id state } }', { s: sub.id }, token);
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    // Nothing is left to do, so that run may already be over: never the state before it, though.
    assert.ok(['PROCESSING', 'PROCESSED'].includes(res.data.startProcessing.state), res.data.startProcessing.state);
    await processToEnd(app, token, sub.id); // let that run end before the app stops
    const list = await app.gql('query($id: ID!) { submission(id: $id) { fileList { originalName } } }', { id: sub.id }, token);
    assert.equal(list.data.submission.fileList.length, 6);
    // One list, while it is a list one response can carry: past 10,000 files the caller is sent to the connection.
    const big = await createSubmission(app, token, { title: 'Ten thousand and one files' });
    const knex = (app.orm.em as any).getKnex();
    const at = app.orm.em.getPlatform().processDateProperty(new Date());
    const rows = Array.from({ length: FILE_LIST_MAX + 1 }, (_, i) => ({
      submission_id: Number(big.id), original_name: `f${i}.dcm`, staging_path: `nowhere/${i}`, size: 1, sha256: '0'.repeat(64), state: 'RECEIVED', received_at: at,
    }));
    for (let at = 0; at < rows.length; at += 500) await knex('submission_file').insert(rows.slice(at, at + 500));
    const tooLong = await app.gql('query($id: ID!) { submission(id: $id) { fileList { id } } }', { id: big.id }, token);
    assert.equal(tooLong.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(tooLong.errors));
    assert.match(tooLong.errors![0].message, /page through them with files\(first, after\)/);
    const types = await app.gql(`{ __type(name: "Mutation") { fields(includeDeprecated: true) { name isDeprecated } } }`);
    const byName = new Map(types.data.__type.fields.map((f: any) => [f.name, f.isDeprecated]));
    assert.deepEqual([byName.get('processSubmission'), byName.get('startProcessing')], [false, true]);
  });
});

describe("a submitter's collections not yet released", () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ config: { ingest: { ...loadConfig().ingest, maxDraftCollections: 3 } } }); });
  after(async () => app?.stop());

  const CREATE = 'mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id collection { accession } } }';
  const create = (token: string, extra: Record<string, unknown> = {}) => app.gql(CREATE, { i: { title: 'Draft', disease: 'glioma', ...extra } }, token);

  it('are bounded, so no script can take the archive\'s 9,999 collection accessions; a burst of requests cannot pass the bound together', async () => {
    const mallory = await app.token('mallory', Role.SUBMITTER);
    // Twelve at once: each draws an accession and counts the drafts in one transaction.
    const burst = await Promise.all(Array.from({ length: 12 }, () => create(mallory)));
    const made = burst.filter((r) => !r.errors);
    assert.equal(made.length, 3, JSON.stringify(burst.map((r) => r.errors?.[0]?.extensions?.code ?? 'ok')));
    for (const refused of burst.filter((r) => r.errors)) {
      assert.equal(refused.errors![0].extensions.code, 'QUOTA_EXCEEDED');
      assert.equal(refused.errors![0].extensions.maximum, 3);
    }
    // A refused request draws no accession: the next collection anyone makes gets the next number.
    const numbers = made.map((r) => Number(r.data.createSubmission.collection.accession.slice(4))).sort((a, b) => a - b);
    const next = await create(await app.token('someone-else', Role.SUBMITTER));
    assert.equal(Number(next.data.createSubmission.collection.accession.slice(4)), numbers[2]! + 1);
    // More submissions to a draft the submitter holds are still welcome, and curators are not bound.
    const more = await create(mallory, { collection: made[0]!.data.createSubmission.collection.accession });
    assert.equal(more.errors, undefined, JSON.stringify(more.errors));
    const curator = await app.token('cora', Role.CURATOR);
    for (let i = 0; i < 4; i++) assert.equal((await create(curator)).errors, undefined);
  });
});

describe("a submitter's submissions not yet processed", () => {
  let app: TestApp;
  before(async () => { app = await startTestApp(); });
  after(async () => app?.stop());

  it(`are at most ${MAX_OPEN_SUBMISSIONS}, also into a draft they hold; a burst cannot pass the bound together; curators are not bound`, async () => {
    const CREATE = 'mutation($i: CreateSubmissionInput!) { createSubmission(input: $i) { id collection { accession } } }';
    const peter = await app.token('peter', Role.SUBMITTER);
    const first = await app.gql(CREATE, { i: { title: 'Draft', disease: 'glioma' } }, peter);
    const collection = first.data.createSubmission.collection.accession;
    const collectionId = Number((await (app.orm.em as EntityManager).getKnex()('collection').where({ accession: collection }).first('id'))!.id);
    // Rows written straight to the database up to a few below the bound, then a burst of twelve.
    const knex = (app.orm.em as EntityManager).getKnex();
    const at = app.orm.em.getPlatform().processDateProperty(new Date());
    const room = 3;
    await knex('submission').insert(Array.from({ length: MAX_OPEN_SUBMISSIONS - 1 - room }, () => ({
      title: 'row', description: '', keywords: '[]', disease: 'glioma', accessibility: 'OPEN', deid_options: '{}', submitter: 'peter', collection_id: collectionId, state: 'OPEN', created_at: at,
    })));
    const burst = await Promise.all(Array.from({ length: 12 }, () => app.gql(CREATE, { i: { title: 'More', disease: 'glioma', collection } }, peter)));
    assert.equal(burst.filter((r) => !r.errors).length, room, JSON.stringify(burst.map((r) => r.errors?.[0]?.extensions?.code ?? 'ok')));
    for (const refused of burst.filter((r) => r.errors)) {
      assert.equal(refused.errors![0].extensions.code, 'QUOTA_EXCEEDED');
      assert.equal(refused.errors![0].extensions.maximum, MAX_OPEN_SUBMISSIONS);
    }
    assert.equal((await app.gql(CREATE, { i: { title: 'A new draft', disease: 'glioma' } }, peter)).errors?.[0]?.extensions?.code, 'QUOTA_EXCEEDED', 'a new collection brings a submission too');
    const cora = await app.token('cora', Role.CURATOR);
    assert.equal((await app.gql(CREATE, { i: { title: 'Curated', disease: 'glioma', collection } }, cora)).errors, undefined);
  });
});
