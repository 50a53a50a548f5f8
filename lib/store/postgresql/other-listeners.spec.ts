import { OtherListeners, RECHECK_MS } from './other-listeners';

/** A look that the test answers, on a clock the test moves. */
function setUp() {
  let now = 0;
  const looks: { resolve: (present: boolean) => void; reject: (error: Error) => void }[] = [];
  const listeners = new OtherListeners(
    () => new Promise<boolean>((resolve, reject) => looks.push({ resolve, reject })),
    () => now,
  );
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { listeners, looks, settle, advance: (ms: number) => void (now += ms) };
}

describe('OtherListeners', () => {
  it('says yes until a look has answered, then trusts "none" for RECHECK_MS from the look\'s start', async () => {
    const { listeners, looks, settle, advance } = setUp();
    expect(listeners.present()).toBe(true); // no answer yet: notify
    expect(looks).toHaveLength(1);
    expect(listeners.present()).toBe(true); // one look at a time
    expect(looks).toHaveLength(1);
    advance(300); // the look took 300 ms
    looks[0].resolve(false);
    await settle();
    expect(listeners.present()).toBe(false);
    advance(RECHECK_MS - 301); // 1 ms before the answer is RECHECK_MS old, counted from the look's start
    expect(listeners.present()).toBe(false);
    expect(looks).toHaveLength(1);
    advance(1);
    expect(listeners.present()).toBe(true); // too old to skip a NOTIFY on: yes, and look again
    expect(looks).toHaveLength(2);
    looks[1].resolve(true);
    await settle();
    expect(listeners.present()).toBe(true);
  });

  it('counts a failed look as yes', async () => {
    const { listeners, looks, settle } = setUp();
    listeners.present();
    looks[0].reject(new Error('connection refused'));
    await settle();
    expect(listeners.present()).toBe(true);
  });

  it('looks only when asked (an idle instance makes no statement)', async () => {
    const { listeners, looks, settle, advance } = setUp();
    listeners.present();
    looks[0].resolve(false);
    await settle();
    advance(60 * RECHECK_MS);
    expect(looks).toHaveLength(1);
    expect(listeners.present()).toBe(true);
    expect(looks).toHaveLength(2);
  });
});
