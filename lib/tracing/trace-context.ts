/**
 * The text a job keeps of the trace context of its enqueue (the `trace_context` column): the W3C
 * `traceparent` of the enqueue's span, then a space and its `tracestate` when it has one. A
 * traceparent never contains a space, so the first space splits the two. Written and read here
 * only, whatever propagator the app registers: it is Doctor Job's storage format, not a header.
 */

/** A span context as @opentelemetry/api's SpanContext has it (structural: no import of the package). */
export interface StoredSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  /** The serialized tracestate, when there is one. */
  traceState?: string;
}

/** W3C's advice: propagate at least 512 characters of tracestate; longer ones lose members from the end. */
export const MAX_TRACESTATE = 512;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The W3C traceparent of a span context (version 00). */
export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A tracestate cut to at most MAX_TRACESTATE characters by dropping whole members from its end; undefined when empty. */
export function boundedTracestate(tracestate: string | undefined): string | undefined {
  if (!tracestate) return undefined;
  let value = tracestate.trim();
  while (value.length > MAX_TRACESTATE) {
    const cut = value.lastIndexOf(',');
    if (cut < 0) return undefined;
    value = value.slice(0, cut).trimEnd();
  }
  return value || undefined;
}

/** The stored text of a span context: `traceparent` or `traceparent tracestate`. */
export function formatTraceContext(context: StoredSpanContext): string {
  const traceparent = formatTraceparent(context.traceId, context.spanId, context.traceFlags);
  const tracestate = boundedTracestate(context.traceState);
  return tracestate ? `${traceparent} ${tracestate}` : traceparent;
}

/** The span context of a stored text; undefined when it is not one Doctor Job wrote (or its ids are all zeros). */
export function parseTraceContext(text: string): StoredSpanContext | undefined {
  const space = text.indexOf(' ');
  const match = TRACEPARENT.exec(space < 0 ? text : text.slice(0, space));
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  const traceState = space < 0 ? undefined : text.slice(space + 1).trim() || undefined;
  return { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), traceState };
}
