import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Tracing } from './tracing.js';

// The OpenTelemetry SDK side of src/ops/tracing.ts: a tracer provider and its exporters. Apart
// from the spans' module so that a process with tracing off never loads it.

/** Installs a process-wide tracer provider that hands finished spans to `exporter` (tests: an in-memory one). */
export function installTracing(exporter: SpanExporter, options: { batch?: boolean; serviceName?: string } = {}): Tracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'obia-hub' }),
    spanProcessors: [options.batch ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The exporter `OTEL_TRACES_EXPORTER` names (src/ops/tracing.ts's startTracingFromEnv). */
export function startTracing(kind: 'otlp' | 'console', serviceName?: string): Tracing {
  if (kind === 'otlp') return installTracing(new OTLPTraceExporter(), { batch: true, serviceName });
  return installTracing(new ConsoleSpanExporter(), { serviceName });
}
