import { AsyncLocalStorage } from 'node:async_hooks';
import { LocalWakeUps } from './local-wake-ups';

describe('LocalWakeUps', () => {
  it('calls every wake-up on every wake(); a removed one is not called', () => {
    const wakeUps = new LocalWakeUps();
    let woken = 0;
    const remove = wakeUps.add(() => woken++);
    wakeUps.wake();
    wakeUps.wake();
    wakeUps.wake();
    expect(woken).toBe(3);
    remove();
    wakeUps.wake();
    expect(woken).toBe(3);
  });

  it("calls each wake-up in the async context it was added in, not the caller's, and a wake-up that throws disturbs neither the caller nor the others", () => {
    const wakeUps = new LocalWakeUps();
    const request = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    request.run('runner start', () => wakeUps.add(() => seen.push(request.getStore())));
    wakeUps.add(() => {
      throw new Error('a wake-up that fails');
    });
    wakeUps.add(() => seen.push('third'));
    expect(() => request.run('a request that commits', () => wakeUps.wake())).not.toThrow();
    expect(() => request.run('a request that sends', () => wakeUps.wake())).not.toThrow();
    expect(seen).toEqual(['runner start', 'third', 'runner start', 'third']);
  });

  it('the same function added twice is two wake-ups, each removed on its own', () => {
    const wakeUps = new LocalWakeUps();
    let woken = 0;
    const wake = () => woken++;
    const first = wakeUps.add(wake);
    wakeUps.add(wake);
    first();
    wakeUps.wake();
    expect(woken).toBe(1);
  });
});
