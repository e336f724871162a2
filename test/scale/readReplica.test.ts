// Read replicas (issue 18): a MariaDB primary and a GTID replica, both started by
// scripts/mariadb-replica.sh on spare loopback ports, and a hub configured with the replica.
// With replication stopped, a change made on the primary is not what the hub's browse answers
// (the replica served it) until replication resumes; a submission created through the hub is
// seen at once, because reads that must see their own writes go to the primary.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { startTestApp, type TestApp } from '../support/app.js';
import { createSubmission, submitter } from '../ingest/helpers.js';
import { sparePort } from './redis.js';
import { runsOnce } from '../support/once.js';

runsOnce('starts its own MariaDB primary and replica, whichever pass it is in');

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, '../../../scripts/mariadb-replica.sh');

describe('reads from a MariaDB GTID replica', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obia-replica-'));
  let primary: mysql.Connection;
  let replica: mysql.Connection;
  let app: TestApp;
  const db = 'obia_replica';

  /** Waits, inside the replica, until it has applied everything the primary has written (no polling). */
  async function caughtUp(): Promise<void> {
    const [[pos]] = await primary.query('SELECT @@gtid_binlog_pos AS pos') as any;
    const [[waited]] = await replica.query('SELECT MASTER_GTID_WAIT(?, 60) AS r', [pos.pos]) as any;
    assert.equal(Number(waited.r), 0, 'the replica caught up');
  }

  before(async () => {
    const [pp, rp] = [await sparePort(), await sparePort()];
    await run(SCRIPT, ['primary', path.join(dir, 'primary'), String(pp)]);
    await run(SCRIPT, ['start', path.join(dir, 'replica'), String(rp), `127.0.0.1:${pp}`]);
    primary = await mysql.createConnection(`mysql://root@127.0.0.1:${pp}/`);
    replica = await mysql.createConnection(`mysql://root@127.0.0.1:${rp}/`);
    await primary.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
    const dataDir = path.join(dir, 'hub');
    fs.mkdirSync(dataDir);
    // Migrations and the seed run on the primary and reach the replica through the binlog.
    app = await startTestApp({
      seedScale: 0.002,
      db: { databaseUrl: `mysql://root@127.0.0.1:${pp}/${db}`, dataDir, drop: async () => {} },
      config: { databaseReplicas: [`mysql://root@127.0.0.1:${rp}/${db}`] },
    });
    await caughtUp();
  });
  after(async () => {
    await app?.stop();
    await primary?.end();
    await replica?.end();
    for (const server of ['replica', 'primary']) if (fs.existsSync(path.join(dir, server))) await run(SCRIPT, ['stop', path.join(dir, server)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers browse reads from the replica, and a submitter\'s own writes from the primary', async () => {
    const [[first]] = await primary.query(`SELECT accession, title FROM ${db}.collection ORDER BY accession LIMIT 1`) as any;
    const title = async () => (await app.gql('query($a: String!) { collection(accession: $a) { title } }', { a: first.accession })).data?.collection?.title;
    assert.equal(await title(), first.title);

    await replica.query('STOP SLAVE');
    await primary.query(`UPDATE ${db}.collection SET title = 'Changed on the primary only' WHERE accession = ?`, [first.accession]);
    assert.equal(await title(), first.title, 'the hub read the replica, which has not seen the change');

    // Read-your-writes: a submission created now is not on the stopped replica, yet its submitter sees it.
    const token = await submitter(app);
    const sub = await createSubmission(app, token);
    const [[onReplica]] = await replica.query(`SELECT count(*) AS n FROM ${db}.submission WHERE id = ?`, [Number(sub.id)]) as any;
    assert.equal(Number(onReplica.n), 0, 'the replica does not hold the new submission');
    const seen = await app.gql('query($id: ID!) { submission(id: $id) { id state } }', { id: sub.id }, token);
    assert.deepEqual(seen.data?.submission, { id: sub.id, state: 'OPEN' });

    await replica.query('START SLAVE');
    await caughtUp();
    assert.equal(await title(), 'Changed on the primary only', 'replication resumed: the replica serves the change');
  });
});
