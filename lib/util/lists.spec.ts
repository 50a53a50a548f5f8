import { emptyList } from './lists';

describe('emptyList', () => {
  it('is an empty array, a new one each call, that takes elements like any other', () => {
    const a = emptyList<{ id: string }>();
    const b = emptyList<{ id: string }>();
    expect(a).toEqual([]);
    expect(a).not.toBe(b);
    a.push({ id: '1' });
    expect(a).toEqual([{ id: '1' }]);
    expect(b).toHaveLength(0);
    expect(Array.isArray(b)).toBe(true);
  });
});
