import { compareIds, inIdOrder } from './id-order';

/** A deterministic shuffle (a linear congruential generator), so a failure can be replayed. */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const jobs = (ids: string[]) => ids.map((id, n) => ({ id, n }));
const byText = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => compareIds(a.id, b.id));

describe('inIdOrder', () => {
  it('returns jobs already in id order as they are (the same array)', () => {
    const ordered = jobs(['1', '2', '10', '11', '200']);
    expect(inIdOrder(ordered)).toBe(ordered);
    expect(inIdOrder([])).toEqual([]);
    const one = jobs(['5']);
    expect(inIdOrder(one)).toBe(one);
  });

  it.each([3, 1000, 1024, 1025, 5000])('sorts %i shuffled jobs in the numeric form, every job once', (n) => {
    const ids = Array.from({ length: n }, (_, i) => String(1 + i * 7 + (i % 3)));
    const input = shuffled(jobs(ids), n);
    expect(input.map((j) => j.id)).not.toEqual(ids); // shuffled indeed
    const sorted = inIdOrder(input);
    expect(sorted).not.toBe(input); // the numeric form (the text form sorts in place)
    expect(sorted.map((j) => j.id)).toEqual(byText(input).map((j) => j.id));
    expect(new Set(sorted)).toEqual(new Set(input)); // the same objects, none lost or doubled
  });

  it('sorts two jobs that came the other way round', () => {
    const [a, b] = jobs(['8', '41']);
    expect(inIdOrder([b, a])).toEqual([a, b]);
  });

  it('keeps the numeric form exact just below its limit (ids near 2^43 in a batch of 1,000: x1024 + position stays below 2^53)', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => String(2 ** 43 - 2002 + i));
    const input = shuffled(jobs(ids));
    const sorted = inIdOrder(input);
    expect(sorted).not.toBe(input); // still the numeric form
    expect(sorted.map((j) => j.id)).toEqual(ids);
  });

  it('sorts ids of different lengths by value, not as text', () => {
    expect(inIdOrder(jobs(['100', '9', '20', '1'])).map((j) => j.id)).toEqual(['1', '9', '20', '100']);
  });

  it('sorts ids too large for the numeric form (past 2^43 for a batch of 1,000, past 2^53) by their text, exactly', () => {
    const big = ['9007199254740993', '9007199254740992', '9007199254740995', '18446744073709551615', '42'];
    expect(inIdOrder(jobs(big)).map((j) => j.id)).toEqual(['42', '9007199254740992', '9007199254740993', '9007199254740995', '18446744073709551615']);
    const near = Array.from({ length: 1000 }, (_, i) => String(2 ** 43 + i));
    const input = shuffled(jobs(near));
    const sorted = inIdOrder(input);
    expect(sorted).toBe(input); // the text form, in place
    expect(sorted.map((j) => j.id)).toEqual(near);
  });
});
