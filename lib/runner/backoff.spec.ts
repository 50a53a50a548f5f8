import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  const noJitter = { baseMs: 100, maxMs: 10_000, jitter: 0 };

  it('doubles from the base with each attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, noJitter))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(backoffDelay(8, noJitter)).toBe(10_000);
    expect(backoffDelay(5_000, noJitter)).toBe(10_000);
  });

  it('shortens the delay by at most the jitter share', () => {
    const half = { ...noJitter, jitter: 0.5 };
    expect(backoffDelay(3, half, () => 0)).toBe(400);
    expect(backoffDelay(3, half, () => 0.999999)).toBe(200);
    const full = { ...noJitter, jitter: 1 };
    expect(backoffDelay(3, full, () => 0.999999)).toBe(0);
  });

  it('spreads delays of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoffDelay(4, { ...noJitter, jitter: 0.5 })));
    expect(delays.size).toBeGreaterThan(50);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });
});
