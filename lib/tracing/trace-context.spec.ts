import { boundedTracestate, formatTraceContext, MAX_TRACESTATE, parseTraceContext } from './trace-context';

describe('the stored trace context', () => {
  const ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

  it('is the W3C traceparent, then a space and the tracestate when there is one', () => {
    expect(formatTraceContext({ ...ids, traceFlags: 1 })).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(formatTraceContext({ ...ids, traceFlags: 0, traceState: 'vendor=a,other=b' })).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 vendor=a,other=b');
    expect(formatTraceContext({ ...ids, traceFlags: 1, traceState: '' })).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('reads back what it wrote', () => {
    for (const context of [{ ...ids, traceFlags: 1 }, { ...ids, traceFlags: 0, traceState: 'vendor=a, other=b c' }]) {
      expect(parseTraceContext(formatTraceContext(context))).toEqual({ traceState: undefined, ...context });
    }
  });

  it('ignores text that is not a traceparent of version 00 with valid ids', () => {
    for (const text of ['', 'garbage', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
      expect(parseTraceContext(text)).toBeUndefined();
    }
  });

  it('keeps at most 512 characters of tracestate, dropping whole members from its end', () => {
    const member = (i: number) => `k${i}=${'v'.repeat(40)}`;
    const long = Array.from({ length: 20 }, (_, i) => member(i)).join(',');
    const kept = boundedTracestate(long)!;
    expect(kept.length).toBeLessThanOrEqual(MAX_TRACESTATE);
    expect(long.startsWith(kept)).toBe(true);
    expect(kept.split(',')).toEqual(Array.from({ length: kept.split(',').length }, (_, i) => member(i)));
    expect(boundedTracestate(`one=${'x'.repeat(600)}`)).toBeUndefined();
    expect(formatTraceContext({ ...ids, traceFlags: 1, traceState: long }).length).toBeLessThanOrEqual(55 + 1 + MAX_TRACESTATE);
  });
});
