import type { ApolloServerPlugin } from '@apollo/server';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * OpenTelemetry traces of HTTP requests and GraphQL operations (issue 18). Spans are made through
 * the API's global tracer, which is a no-op until a provider is installed: off by default, and
 * then nearly free. `OTEL_TRACES_EXPORTER=otlp` sends them over OTLP/HTTP (the exporter reads
 * the standard `OTEL_EXPORTER_OTLP_…` variables: endpoint, headers), `console` prints them.
 * Attributes are names and routes only, never a URL's query, a variable or a header value.
 */
const TRACER = 'obia-hub';

export interface Tracing { shutdown(): Promise<void> }

/**
 * `npm start` and `npm run worker`: the exporter the environment names, or none. The SDK and its
 * exporters (src/ops/tracingProvider.ts, ≈ 0.1 CPU-s to load) load only when one is named.
 */
export async function startTracingFromEnv(env: NodeJS.ProcessEnv = process.env, serviceName?: string): Promise<Tracing | null> {
  const kind = (env.OTEL_TRACES_EXPORTER ?? 'none').trim().toLowerCase();
  if (kind === 'none' || kind === '') return null;
  if (kind !== 'otlp' && kind !== 'console') throw new Error(`OTEL_TRACES_EXPORTER=${kind}: expected otlp, console or none`);
  return (await import('./tracingProvider.js')).startTracing(kind, serviceName);
}

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * A SERVER span per HTTP request, named by method and route pattern (never the raw URL: ids and
 * tokens travel in it), continuing the caller's trace (`traceparent`). The request's handlers run
 * inside its context, so the GraphQL operation's span is its child.
 */
export function traceHttp(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = trace.getTracer(TRACER).startSpan(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': request.routeOptions.url ?? 'unmatched' },
    }, parent);
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** An Apollo Server plugin: one span per GraphQL operation (`query CollectionsPage`), ERROR when it answered errors. */
export function tracingPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const span = trace.getTracer(TRACER).startSpan('graphql', { kind: SpanKind.INTERNAL });
      return {
        async didResolveOperation(rc) {
          const type = rc.operation?.operation ?? 'unknown';
          span.updateName(`${type} ${rc.operationName ?? 'anonymous'}`);
          span.setAttributes({ 'graphql.operation.type': type, 'graphql.operation.name': rc.operationName ?? '' });
        },
        async willSendResponse(rc) {
          const errors = rc.response.body.kind === 'single' ? rc.response.body.singleResult.errors ?? [] : [];
          if (errors.length) span.setStatus({ code: SpanStatusCode.ERROR, message: String(errors[0]?.extensions?.code ?? 'error') });
          span.end();
        },
      };
    },
  };
}
