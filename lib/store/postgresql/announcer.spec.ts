import { Announcer, type AnnouncerClock } from './announcer';

/** A clock the test moves by hand; timers fire when it passes their time. */
class ManualClock implements AnnouncerClock {
  private time = 1_000;
  private timers: { at: number; fn: () => void }[] = [];
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((t) => t !== handle);
  };
  pending = () => this.timers.length;
  async advance(ms: number) {
    this.time += ms;
    for (const timer of this.timers.filter((t) => t.at <= this.time)) {
      this.timers = this.timers.filter((t) => t !== timer);
      timer.fn();
    }
    await settle();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A NOTIFY the test completes by hand (resolve) or lets complete at once (auto). */
function notifier(auto = true) {
  const sent: number[] = [];
  const inFlight: (() => void)[] = [];
  return {
    sent,
    notify: (clock: ManualClock) => () => {
      sent.push(clock.now());
      return auto ? Promise.resolve() : new Promise<void>((resolve) => inFlight.push(resolve));
    },
    finish: async () => {
      inFlight.shift()?.();
      await settle();
    },
  };
}

describe('Announcer', () => {
  it('sends the first NOTIFY at once, and folds the calls within the spacing into one sent when it has passed', async () => {
    const clock = new ManualClock();
    const n = notifier();
    const announcer = new Announcer(n.notify(clock), 5, clock);
    announcer.announce();
    await settle();
    expect(n.sent).toEqual([1_000]);
    await clock.advance(1);
    announcer.announce();
    announcer.announce();
    await clock.advance(2);
    announcer.announce();
    await settle();
    expect(n.sent).toEqual([1_000]); // 3 ms after the first: owed, not sent
    await clock.advance(2);
    expect(n.sent).toEqual([1_000, 1_005]); // the spacing has passed: one NOTIFY for the three calls
    await clock.advance(100);
    expect(n.sent).toHaveLength(2); // nothing owed, nothing sent
    announcer.announce();
    await settle();
    expect(n.sent).toEqual([1_000, 1_005, 1_105]); // after a quiet spell: at once again
  });

  it('calls made while a NOTIFY is in flight share one more, no sooner than the spacing after the one in flight', async () => {
    const clock = new ManualClock();
    const n = notifier(false);
    const announcer = new Announcer(n.notify(clock), 5, clock);
    announcer.announce();
    await settle();
    announcer.announce();
    announcer.announce();
    await clock.advance(1);
    await n.finish();
    expect(n.sent).toEqual([1_000]);
    await clock.advance(4);
    expect(n.sent).toEqual([1_000, 1_005]);
    await clock.advance(20);
    await n.finish();
    await settle();
    expect(n.sent).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it('a NOTIFY that fails leaves the announcer working', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const announcer = new Announcer(
      () => {
        calls++;
        return calls === 1 ? Promise.reject(new Error('connection refused')) : Promise.resolve();
      },
      5,
      clock,
    );
    announcer.announce();
    await settle();
    await clock.advance(10);
    announcer.announce();
    await settle();
    expect(calls).toBe(2);
  });

  it('close() sends the NOTIFY still owed at once, then sends nothing more', async () => {
    const clock = new ManualClock();
    const n = notifier();
    const announcer = new Announcer(n.notify(clock), 5, clock);
    announcer.announce();
    await settle();
    await clock.advance(1);
    announcer.announce(); // owed until 1_005
    await announcer.close();
    expect(n.sent).toEqual([1_000, 1_001]);
    expect(clock.pending()).toBe(0);
    announcer.announce();
    await clock.advance(10);
    expect(n.sent).toHaveLength(2);
  });

  it('close() waits for the NOTIFY in flight and the one owed behind it', async () => {
    const clock = new ManualClock();
    const n = notifier(false);
    const announcer = new Announcer(n.notify(clock), 5, clock);
    announcer.announce();
    await settle();
    announcer.announce(); // owed behind the one in flight
    let closed = false;
    const closing = announcer.close().then(() => (closed = true));
    await n.finish();
    expect(n.sent).toHaveLength(2); // sent at once (closing), not after the spacing
    expect(closed).toBe(false);
    await n.finish();
    await closing;
    expect(closed).toBe(true);
  });
});
