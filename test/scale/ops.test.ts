// Operations (issue 18): /health answers, /ready checks the database, both blob roots and Redis
// and names what failed with a 503, /metrics counts requests by route, times GraphQL operations
// by name, and reports ingest progress and the hash index size.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, makeCt, submitter, uid, upload } from '../ingest/helpers.js';
import { processToEnd } from '../support/kit.js';
import { startRedis, type TestRedis } from './redis.js';
import { tapLog } from '../../src/log.js';
import { subscribeLive } from '../support/live.js';

/** The value of one sample line of Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operations endpoints', () => {
  let redis: TestRedis;
  let app: TestApp;
  before(async () => {
    redis = await startRedis();
    app = await startTestApp({ config: { redisUrl: redis.url } });
  });
  after(async () => {
    await app?.stop();
    await redis?.stop();
  });

  const get = async (path: string) => {
    const res = await fetch(`${app.url}${path}`);
    return { status: res.status, text: await res.text() };
  };

  it('counts requests by route and status, times GraphQL operations by name, and reports ingest and the index', async () => {
    assert.deepEqual(JSON.parse((await get('/health')).text), { status: 'ok' });
    const token = await submitter(app);
    const sub = await createSubmission(app, token);
    const [study, series] = [uid(), uid()];
    for (let i = 0; i < 3; i++) await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'OPS-1', studyUid: study, seriesUid: series, sopUid: uid(), instanceNumber: i + 1 }));
    assert.equal((await processToEnd(app, token, sub.id)).ingested, 3);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ operationName: 'CollectionsPage', query: 'query CollectionsPage { collections(first: 5) { totalCount } }' }) });
      assert.equal(res.status, 200);
    }
    assert.equal((await get('/no/such/route/123')).status, 404);

    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    const m = metrics.text;
    assert.ok((sample(m, 'obia_http_requests_total{route="/graphql",method="POST",status="200"}') ?? 0) >= 2, m.slice(0, 2000));
    assert.equal(sample(m, 'obia_http_requests_total{route="unmatched",method="GET",status="404"}'), 1, 'an unknown path is one label, not its URL');
    assert.ok(!m.includes('/no/such/route'), 'raw URLs never become labels');
    assert.equal(sample(m, 'obia_graphql_operation_duration_seconds_count{operation="CollectionsPage",type="query",outcome="ok"}'), 2);
    assert.equal(sample(m, 'obia_hash_index_size'), 3, 'the three new codes are in the index');
    assert.equal(sample(m, 'obia_ingest_files_processed_total{outcome="INDEXED"}'), 3);
    assert.equal(sample(m, 'obia_ingest_queue_depth{state="RECEIVED"}'), 0, 'nothing is left waiting');
  });

  it('is ready when the database, both blob roots and Redis answer, and says which one does not', async () => {
    const ready = await get('/ready');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { database: 'ok', storage: 'ok', redis: 'ok' } });

    // A backup root that cannot be written to (here: a file where the directory should be).
    const backup = app.config.backupDir;
    fs.renameSync(backup, `${backup}.moved`);
    fs.writeFileSync(backup, 'not a directory');
    try {
      const broken = await get('/ready');
      assert.equal(broken.status, 503);
      assert.deepEqual(JSON.parse(broken.text), { status: 'not ready', checks: { database: 'ok', storage: 'failed', redis: 'ok' }, failed: ['storage'] });
    } finally {
      fs.rmSync(backup);
      fs.renameSync(`${backup}.moved`, backup);
    }
    assert.equal((await get('/ready')).status, 200);

    await redis.stop();
    const noRedis = await get('/ready');
    assert.equal(noRedis.status, 503);
    assert.deepEqual(JSON.parse(noRedis.text).failed, ['redis']);
    assert.equal((await get('/health')).status, 200, 'the process itself still answers');
  });

  /** Resolves with the first line the app logs that `pattern` matches from now on. */
  function logged(pattern: RegExp, times = 1): Promise<string> {
    return new Promise((resolve) => {
      let seen = 0;
      const untap = tapLog((line) => { if (pattern.test(line) && ++seen === times) { untap(); resolve(line); } });
    });
  }

  it('keeps serving while Redis is away, subscriptions opened and closed meanwhile included, and delivers events again once it is back', { timeout: 60_000 }, async () => {
    await redis.stop();
    const token = await submitter(app);
    const progress = `subscription($s: ID!) { submissionProgress(submission: $s) { state } }`;
    // A subscription's first listener on a topic subscribes its Redis channel, its last one leaving
    // unsubscribes it: both commands fail while Redis is away. Unhandled, each was a rejection
    // that ends the process (node:test fails this file on one).
    const during = await createSubmission(app, token);
    const refused = logged(/channel not subscribed/);
    const away = await subscribeLive(app, token, progress, { s: during.id });
    await away.next((e) => e.data?.submissionProgress?.state === 'OPEN', 'the current state, read from the database');
    await refused;
    await away.dispose();
    assert.equal((await get('/health')).status, 200);
    assert.equal((await app.gql('{ collections(first: 1) { totalCount } }')).status, 200, 'GraphQL answers');

    // Redis comes back where it was: both connections report it, and events flow through it again.
    const back = logged(/redis connection back/, 2);
    redis = await startRedis(redis.port);
    await back;
    const sub = await createSubmission(app, token);
    await upload(app, token, sub.uploadUrl, makeCt({ patientId: 'OPS-2', studyUid: uid(), seriesUid: uid(), sopUid: uid(), instanceNumber: 1 }));
    const live = await subscribeLive(app, token, progress, { s: sub.id });
    try {
      assert.equal((await processToEnd(app, token, sub.id)).ingested, 1);
      await live.next((e) => e.data?.submissionProgress?.state === 'PROCESSED', 'the end of the run, published through Redis');
    } finally {
      await live.dispose();
    }
  });
});

describe('/metrics behind OBIA_METRICS_TOKEN', () => {
  let app: TestApp;
  before(async () => { app = await startTestApp({ config: { metricsToken: 'metrics-secret' } }); });
  after(async () => app?.stop());

  it('answers the bearer of the token, and 401 to anyone else (compared in constant time)', async () => {
    const status = async (authorization?: string) => (await fetch(`${app.url}/metrics`, { headers: authorization ? { authorization } : {} })).status;
    assert.equal(await status(), 401);
    assert.equal(await status('Bearer metrics-secreT'), 401);
    assert.equal(await status('metrics-secret'), 401);
    assert.equal(await status('Bearer metrics-secret'), 200);
  });
});
