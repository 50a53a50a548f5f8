/** Tracing with OpenTelemetry (optional): see job-tracing.ts. Nothing here loads @opentelemetry/api until it is called. */
import { jobTracing } from './job-tracing';

export { jobTracing, NO_TRACING, type AbandonReason, type JobTracing, type ProcessSpan, type SendSpan } from './job-tracing';
export { formatTraceContext, parseTraceContext, type StoredSpanContext } from './trace-context';

/**
 * The trace headers of the active span, for a message your code publishes from a handler (which
 * runs inside its job's `process` span): W3C `traceparent` and `tracestate`, and what the app's
 * propagator adds (baggage, B3...). Undefined without @opentelemetry/api, without a tracer
 * provider, or outside a span.
 */
export function traceHeaders(): Record<string, string> | undefined {
  return jobTracing().headers();
}
