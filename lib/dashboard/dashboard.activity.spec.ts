import { Script } from 'node:vm';
import { JobEvents } from '../events/job-events';
import { DashboardActivity, totals } from './dashboard.activity';
import { DASHBOARD_JS } from './dashboard.assets';
import { barChart } from './dashboard.chart';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 30);
const base = { id: '1', attempt: 1, maxAttempts: 3 };

describe('DashboardActivity', () => {
  afterEach(() => jest.useRealTimers());

  it('counts processed, failed and dead-lettered per type and minute, and forgets a minute after an hour', () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['setTimeout', 'setInterval', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    const events = new JobEvents();
    const activity = new DashboardActivity(events);
    activity.onModuleInit();
    const emit = (type: string, name: 'job.succeeded' | 'job.failed' | 'job.dead-lettered') =>
      events.emit(
        name === 'job.succeeded'
          ? { ...base, type, name, durationMs: 1 }
          : name === 'job.failed'
            ? { ...base, type, name, durationMs: 1, error: { message: 'x' }, nextAttemptInMs: 10 }
            : { ...base, type, name, error: { message: 'x' }, reason: 'failed' },
      );
    emit('a', 'job.succeeded');
    emit('a', 'job.succeeded');
    emit('a', 'job.failed');
    emit('b', 'job.dead-lettered');
    events.emit({ ...base, type: 'a', name: 'job.started' }); // not an outcome
    jest.setSystemTime(T0 + 60_000); // the next minute
    emit('a', 'job.succeeded');

    const a = activity.lastHour('a');
    expect(a).toHaveLength(60);
    expect(a.slice(-2)).toEqual([
      { processed: 2, failed: 1, deadLettered: 0 },
      { processed: 1, failed: 0, deadLettered: 0 },
    ]);
    expect(totals(activity.lastHour())).toEqual({ processed: 3, failed: 1, deadLettered: 1 });
    expect(activity.types()).toEqual(['a', 'b']);
    // 59 minutes on, the first minute is the oldest shown; one more and it is gone.
    expect(totals(activity.lastHour('a', T0 + 59 * 60_000))).toEqual({ processed: 3, failed: 1, deadLettered: 0 });
    expect(totals(activity.lastHour('a', T0 + 60 * 60_000))).toEqual({ processed: 1, failed: 0, deadLettered: 0 });
    // A slot reused an hour later starts again from zero.
    jest.setSystemTime(T0 + 60 * 60_000);
    emit('a', 'job.failed');
    expect(activity.lastHour('a').slice(-1)).toEqual([{ processed: 0, failed: 1, deadLettered: 0 }]);
    expect(totals(activity.lastHour('a'))).toEqual({ processed: 1, failed: 1, deadLettered: 0 });

    activity.onModuleDestroy();
    emit('a', 'job.succeeded');
    expect(totals(activity.lastHour('a'))).toEqual({ processed: 1, failed: 1, deadLettered: 0 });
    expect(activity.lastHour('unknown').every((m) => m.processed + m.failed + m.deadLettered === 0)).toBe(true);
  });
});

describe('dashboard assets', () => {
  it('the script is valid JavaScript (it lives in a TypeScript string, so the compiler does not check it)', () => {
    expect(() => new Script(DASHBOARD_JS, { filename: 'dashboard.js' })).not.toThrow();
  });

  it('draws stacked bars from the counts, one path per series, scaled to the tallest minute', () => {
    const series = [
      { processed: 2, failed: 1, deadLettered: 1 },
      { processed: 0, failed: 0, deadLettered: 0 },
    ];
    const svg = barChart(series, { width: 20, height: 9, label: 'L', className: 'c' });
    expect(svg).toBe(
      '<svg class="c" viewBox="0 0 20 9" width="20" height="9" role="img" aria-label="L"><line class="axis" x1="0" y1="8.5" x2="20" y2="8.5"/>' +
        '<path class="p" stroke-width="8" d="M5 9v-4"/><path class="f" stroke-width="8" d="M5 5v-2"/><path class="d" stroke-width="8" d="M5 3v-2"/></svg>',
    );
  });
});
