// The hub counts completed ingest jobs from the return values BullMQ reads back from Redis. A value
// of an unknown kind grew the metrics' label set without bound (any kind string became a label),
// and a batch whose `files` was negative or not a number made prom-client throw inside the queue
// events' listener, which nothing catches: the hub drained and exited (src/http/processFaults.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { completedJobCount } from '../../src/ops/metrics.js';
import { noDatabase } from '../support/once.js';

noDatabase('what the metrics take from a completed job\'s return value; no database is involved');

describe('completed ingest jobs are counted from what a worker writes, nothing else', () => {
  it('counts the kinds and files a worker returns', () => {
    assert.deepEqual(completedJobCount({ kind: 'batch', files: 32, partials: {} }), { kind: 'batch', files: 32 });
    assert.deepEqual(completedJobCount(JSON.stringify({ kind: 'plan', files: 96 })), { kind: 'plan', files: 0 });
    assert.deepEqual(completedJobCount({ kind: 'finish', files: 0, products: {} }), { kind: 'finish', files: 0 });
  });

  it('takes no label and no count from a hostile return value, and never throws', async () => {
    const registry = new Registry();
    const completed = new Counter({ name: 'completed_total', help: 'h', labelNames: ['kind'], registers: [registry] });
    const files = new Counter({ name: 'files_total', help: 'h', registers: [registry] });
    const hostile: unknown[] = [
      null, 7, 'not json', '{"kind":', [], { kind: 'x'.repeat(10_000) }, { kind: '__proto__' }, { kind: 'toString' },
      { kind: 'batch', files: -5 }, { kind: 'batch', files: 'many' }, { kind: 'batch', files: Number.NaN },
      { kind: 'batch', files: 1e300 }, { kind: 'batch', files: 2.5 }, { kind: ['batch'] },
    ];
    for (const value of hostile) {
      const counted = completedJobCount(value);
      assert.doesNotThrow(() => {
        if (counted) { completed.inc({ kind: counted.kind }); if (counted.files > 0) files.inc(counted.files); }
      }, JSON.stringify(value)?.slice(0, 60));
    }
    const metrics = await registry.getMetricsAsJSON();
    const values = (name: string) => metrics.find((m) => m.name === name)!.values;
    assert.deepEqual(values('completed_total').map((v) => v.labels.kind), ['batch'], 'only the kinds a worker writes became labels');
    assert.deepEqual(values('files_total').map((v) => v.value), [0], 'no hostile count was added');
  });
});
