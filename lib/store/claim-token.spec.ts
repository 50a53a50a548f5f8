import { claimToken, tokenInstanceKey, tokenTime } from './claim-token';

describe('claimToken', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('gives a distinct UUIDv8 each time, across refills of its pool of random bytes', () => {
    // 5,000 tokens: the pool holds the random bytes of 1,024, so it is refilled four times.
    const tokens = Array.from({ length: 5_000 }, () => claimToken('a1b2c3d4', 1_764_650_000_000));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.filter((token) => !UUID.test(token))).toEqual([]);
    // The random digits (the last ten, and the variant's two bits) take many values in every position: no byte stuck.
    const digits = (at: number) => new Set(tokens.map((t) => t[at])).size;
    for (let at = 26; at < 36; at++) expect(digits(at)).toBeGreaterThan(8);
    expect(digits(19)).toBe(4);
  });

  it('carries the instance key and the claim time', () => {
    for (let i = 0; i < 2_000; i++) {
      const token = claimToken('0badcafe', 1_764_650_000_123 + i);
      expect(tokenInstanceKey(token)).toBe('0badcafe');
      expect(tokenTime(token)?.getTime()).toBe(1_764_650_000_123 + i);
    }
  });
});
