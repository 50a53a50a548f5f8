import { JobEvents } from 'doctor-job';
import { DEFAULT_OPTIONS } from '../../lib/doctor-job.options';
import { JobHandlerRegistry, type RegisteredHandler } from '../../lib/handlers/job-handler.registry';
import { JobRunner, type JobRunnerSettings } from '../../lib/runner/job-runner';
import type { ClaimedJob } from '../../lib/store/job-store.interface';
import type { AbandonReason, JobTracing, ProcessSpan } from '../../lib/tracing/job-tracing';
import { MemoryJobStore } from '../support/memory-job-store';

/** What the runner told the tracing, per attempt. */
interface Recorded {
  job: ClaimedJob;
  calls: string[];
  /** Whether the handler ran inside the span's run(). */
  ranInside: boolean;
}

class RecordingTracing implements JobTracing {
  readonly attempts: Recorded[] = [];
  inside = false;
  /** What processing() answers (undefined: the method is absent), and how often it was asked. */
  on: boolean | undefined = undefined;
  asked = 0;
  get processing(): (() => boolean) | undefined {
    return this.on === undefined ? undefined : () => (this.asked++, this.on!);
  }
  send = () => undefined;
  headers = () => undefined;
  process(job: ClaimedJob): ProcessSpan {
    const recorded: Recorded = { job, calls: [], ranInside: false };
    this.attempts.push(recorded);
    return {
      run: <T>(fn: () => T): T => {
        this.inside = true;
        try {
          return fn();
        } finally {
          this.inside = false;
        }
      },
      succeeded: () => void recorded.calls.push('succeeded'),
      failed: (error: unknown, retryInMs?: number) => void recorded.calls.push(`failed ${(error as Error).message} ${retryInMs ?? 'dead-letter'}`),
      abandoned: (reason: AbandonReason) => void recorded.calls.push(`abandoned ${reason}`),
    };
  }
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

const runners: JobRunner[] = [];
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
});

function harness(handlers: Record<string, Partial<RegisteredHandler> & Pick<RegisteredHandler, 'invoke'>>, settings: Partial<JobRunnerSettings> = {}) {
  const store = new MemoryJobStore();
  const registry = new JobHandlerRegistry();
  for (const [type, handler] of Object.entries(handlers)) registry.add({ type, location: `Test.${type}`, ...handler });
  const tracing = new RecordingTracing();
  const logger = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const runner = new JobRunner(
    { ...DEFAULT_OPTIONS, backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 }, notify: false, ...settings },
    { store, handlers: registry, events: new JobEvents(), logger, now: () => store.clock.now(), tracing },
  );
  runners.push(runner);
  const enqueue = async (type: string, traceContext?: string, maxAttempts = 3) =>
    (await store.transaction((tx) => store.insert(tx, [{ type, payload: '{}', maxAttempts, priority: 0, traceContext }])))[0];
  return { store, runner, tracing, enqueue };
}

describe('the runner and the tracing interface', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('each attempt gets a span from the claimed job (with its stored trace context); the handler runs inside it; success ends it', async () => {
    const h = harness({
      work: {
        invoke: async () => {
          if (!h.tracing.inside) throw new Error('the handler ran outside its span');
        },
      },
    });
    await h.enqueue('work', parent);
    await h.enqueue('work');
    h.runner.start();
    await until('both done', () => h.store.rows().length === 0);
    expect(h.tracing.attempts.map((a) => [a.job.traceContext, a.calls])).toEqual([
      [parent, ['succeeded']],
      [null, ['succeeded']],
    ]);
  });

  it('a failure ends the span with the error and the retry delay; the last one as a dead letter', async () => {
    const h = harness({ flaky: { invoke: async () => Promise.reject(new Error('nope')) } });
    await h.enqueue('flaky', parent, 2);
    h.runner.start();
    await until('first attempt', () => h.tracing.attempts.length === 1 && h.tracing.attempts[0].calls.length === 1);
    h.store.clock.advance(1_000);
    await h.runner.poll();
    await until('dead-lettered', () => h.store.deadLetterRows().length === 1);
    expect(h.tracing.attempts.map((a) => [a.job.attempt, a.job.traceContext, a.calls])).toEqual([
      [1, parent, ['failed nope 1000']],
      [2, parent, ['failed nope dead-letter']],
    ]);
  });

  it('a job without a handler at run time is dead-lettered, and its span says so', async () => {
    const h = harness({ work: { invoke: async () => undefined } });
    await h.enqueue('gone');
    h.runner.start();
    await until('dead-lettered', () => h.store.deadLetterRows().length === 1);
    expect(h.tracing.attempts[0].calls).toEqual([expect.stringMatching(/^failed .*gone.* dead-letter$/)]);
  });

  it('a handler still running at the shutdown timeout: its span ends as relinquished then, not when (if ever) the handler returns', async () => {
    let finish!: () => void;
    const h = harness({ hung: { invoke: () => new Promise<void>((resolve) => (finish = resolve)) } }, { shutdownTimeoutMs: 20 });
    await h.enqueue('hung', parent);
    h.runner.start();
    await until('running', () => h.tracing.attempts.length === 1);
    await h.runner.stop();
    expect(h.tracing.attempts[0].calls).toEqual(['abandoned relinquished']);
    finish(); // the real span ignores what comes after its end (lib/tracing/otel-tracing.spec.ts)
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(h.tracing.attempts[0].calls.every((call) => call === 'abandoned relinquished')).toBe(true);
  });

  it('asks processing() once per claim, not per job: spans only for the claims made while it says yes', async () => {
    const h = harness({ work: { invoke: async () => undefined } }, { batchSize: 20, concurrency: 20 });
    h.tracing.on = false;
    for (let i = 0; i < 5; i++) await h.enqueue('work');
    h.runner.start();
    await until('first claim settled', () => h.store.rows().length === 0);
    expect(h.tracing.attempts).toHaveLength(0);
    expect(h.tracing.asked).toBe(1);
    h.tracing.on = true; // a tracer provider registered between two claims
    for (let i = 0; i < 3; i++) await h.enqueue('work');
    await h.runner.poll();
    await until('second claim settled', () => h.store.rows().length === 0);
    expect(h.tracing.attempts.map((a) => a.calls)).toEqual([['succeeded'], ['succeeded'], ['succeeded']]);
    expect(h.tracing.asked).toBe(2);
  });
});
