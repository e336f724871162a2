// OpenTelemetry (issue 18): with an in-memory exporter installed, a GraphQL operation over HTTP
// leaves a span named after the operation, inside the HTTP request's SERVER span (named by its
// route, continuing the caller's traceparent), and a plain HTTP route leaves its own span.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Tracing } from '../../src/ops/tracing.js';
import { installTracing } from '../../src/ops/tracingProvider.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runsOnce } from '../support/once.js';

runsOnce('OpenTelemetry spans of HTTP and GraphQL requests');

describe('OpenTelemetry traces', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let app: TestApp;
  before(async () => {
    tracing = installTracing(exporter);
    app = await startTestApp();
  });
  after(async () => {
    await app?.stop();
    await tracing?.shutdown();
  });

  it('spans a GraphQL operation inside its HTTP request, and an HTTP route, with no URL query in any name', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${app.url}/graphql?token=secret-in-query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
      body: JSON.stringify({ operationName: 'TracedCollections', query: 'query TracedCollections { collections(first: 1) { totalCount } }' }),
    });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${app.url}/health`)).status, 200);

    const spans = exporter.getFinishedSpans();
    const operation = spans.find((s) => s.name === 'query TracedCollections');
    assert.ok(operation, `a GraphQL span: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(operation.attributes['graphql.operation.name'], 'TracedCollections');
    const request = spans.find((s) => s.name === 'POST /graphql');
    assert.ok(request, 'an HTTP span');
    assert.equal(request.kind, SpanKind.SERVER);
    assert.equal(request.attributes['http.response.status_code'], 200);
    assert.equal(request.spanContext().traceId, traceId, 'the caller\'s trace continues');
    assert.equal(operation.spanContext().traceId, traceId);
    assert.equal(operation.parentSpanContext?.spanId, request.spanContext().spanId, 'the operation is a child of its request');
    assert.ok(spans.some((s) => s.name === 'GET /health' && s.attributes['http.response.status_code'] === 200));
    assert.ok(spans.every((s) => !JSON.stringify([s.name, s.attributes]).includes('secret-in-query')));
  });
});
