import { JobEvents, type JobContext, type JobEvent } from 'doctor-job';
import { DEFAULT_OPTIONS } from '../../lib/doctor-job.options';
import { JobHandlerRegistry, type RegisteredHandler } from '../../lib/handlers/job-handler.registry';
import { JobRunner, type JobRunnerSettings } from '../../lib/runner/job-runner';
import { MemoryJobStore } from '../support/memory-job-store';

/**
 * The runner's parts against an in-memory store on a manual clock: no database, no poll
 * interval (only what the runner itself triggers), so each race is set up step by step.
 */

class Logs {
  readonly lines: { level: 'log' | 'warn' | 'error'; message: string }[] = [];
  log = (message: string) => void this.lines.push({ level: 'log', message });
  warn = (message: string) => void this.lines.push({ level: 'warn', message });
  error = (message: string) => void this.lines.push({ level: 'error', message });
  of(level: 'log' | 'warn' | 'error'): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}

/** Lets promise callbacks and setImmediate callbacks (the batched delete) run, until `done()` or 2,000 turns. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

interface Harness {
  store: MemoryJobStore;
  runner: JobRunner;
  logs: Logs;
  events: JobEvent[];
  enqueue(type: string, payload?: unknown, extra?: { delayMs?: number; maxAttempts?: number }): Promise<string>;
}

/** Every runner a test built: stopped after each test, so a failing test leaves no interval behind. */
const runners: JobRunner[] = [];
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
});

function harness(handlers: Record<string, Partial<RegisteredHandler> & Pick<RegisteredHandler, 'invoke'>>, settings: Partial<JobRunnerSettings> = {}): Harness {
  const store = new MemoryJobStore();
  const registry = new JobHandlerRegistry();
  for (const [type, handler] of Object.entries(handlers)) registry.add({ type, location: `Test.${type}`, ...handler });
  const jobEvents = new JobEvents();
  const events: JobEvent[] = [];
  jobEvents.on('*', (event) => events.push(event));
  const logs = new Logs();
  const runner = new JobRunner(
    { ...DEFAULT_OPTIONS, backoff: { baseMs: 1_000, maxMs: 1_000, jitter: 0 }, notify: false, ...settings },
    { store, handlers: registry, events: jobEvents, logger: logs, now: () => store.clock.now() },
  );
  runners.push(runner);
  const enqueue = async (type: string, payload: unknown = {}, extra: { delayMs?: number; maxAttempts?: number } = {}) => {
    const [id] = await store.transaction((tx) => store.insert(tx, [{ type, payload: JSON.stringify(payload), maxAttempts: extra.maxAttempts ?? 3, priority: 0, delayMs: extra.delayMs }]));
    return id;
  };
  return { store, runner, logs, events, enqueue };
}

const ok = async () => undefined;

describe('JobRunner (in-memory store, manual clock)', () => {
  it('runs due jobs and deletes the successes of one turn in one batched, fenced statement', async () => {
    const seen: string[] = [];
    const h = harness({ work: { invoke: async (payload) => void seen.push((payload as { n: number }).n.toString()) } });
    for (let n = 1; n <= 5; n++) await h.enqueue('work', { n });
    h.runner.start();
    await until('all deleted', () => h.store.rows().length === 0);
    expect(seen).toEqual(['1', '2', '3', '4', '5']);
    const deletes = h.store.calls.filter((c) => c.method === 'completeUnderLease' || c.method === 'complete');
    expect(deletes).toHaveLength(1);
    expect(deletes[0].method).toBe('completeUnderLease'); // every lease was young
    expect((deletes[0].args[0] as unknown[]).length).toBe(5);
    expect(h.events.filter((e) => e.name === 'job.succeeded').map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    await h.runner.stop();
  });

  it('a claim that came back empty while a batched delete was in flight is followed by another claim once the delete is done', async () => {
    const ran: string[] = [];
    const h = harness({ work: { invoke: async (_payload, job: JobContext) => void ran.push(job.id) } });
    const first = await h.enqueue('work');
    const deleting = h.store.hold('completeUnderLease');
    h.runner.start();
    await deleting.waiting; // the first job's success is being deleted, and the delete holds
    // A job the empty claim below cannot see yet (on a real database: a row the delete holds locked).
    const second = await h.enqueue('work', {}, { delayMs: 10 });
    await h.runner.poll();
    const claims = () => h.store.calls.filter((c) => c.method === 'claim').length;
    const claimsBefore = claims();
    h.store.clock.advance(10);
    deleting.release();
    // No interval runs here: only the runner's own follow-up claim can find the second job.
    await until('second job ran', () => ran.includes(second));
    expect(ran).toEqual([first, second]);
    expect(claims()).toBeGreaterThan(claimsBefore);
    await h.runner.stop();
  });

  it('a lease lost mid-handler: the handler is aborted, nothing of its outcome is written, the other worker keeps the job', async () => {
    const started = deferred();
    const finish = deferred();
    let signal: AbortSignal | undefined;
    const h = harness({
      slow: {
        invoke: async (_payload, job: JobContext) => {
          signal = job.signal;
          started.resolve();
          await finish.promise;
        },
      },
    });
    const id = await h.enqueue('slow');
    h.runner.start();
    await started.promise;
    const thief = h.store.stealClaim(id); // our lease ran out while we stalled; another worker took the job
    await h.runner.leases.beat();
    expect(signal?.aborted).toBe(true);
    expect(h.logs.of('warn').some((m) => m.includes(`Job ${id}: its lease could not be extended`))).toBe(true);
    finish.resolve(); // the handler returns anyway
    await until('slot freed', () => h.runner.inFlight === 0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.store.calls.some((c) => ['complete', 'completeUnderLease', 'retry', 'deadLetter'].includes(c.method))).toBe(false);
    expect(h.store.rows()).toEqual([expect.objectContaining({ id, claimToken: thief, attempts: 2 })]);
    expect(h.events.some((e) => e.name === 'job.succeeded')).toBe(false);
    await h.runner.stop();
  });

  it('successes whose leases are old are deleted by the reporting statement, and a lost claim among them is named', async () => {
    const release = deferred();
    const h = harness({ work: { invoke: () => release.promise } }, { leaseMs: 10_000 });
    const a = await h.enqueue('work');
    const b = await h.enqueue('work');
    h.runner.start();
    await until('both running', () => h.runner.inFlight === 2);
    h.store.clock.advance(6_000); // more than half the lease: the count-only delete is not trusted
    h.store.stealClaim(b);
    release.resolve();
    await until('a deleted', () => !h.store.rows().some((r) => r.id === a));
    await until('both closed', () => h.runner.slots.openClaims === 0);
    expect(h.store.calls.filter((c) => c.method === 'completeUnderLease')).toHaveLength(0);
    expect(h.store.calls.filter((c) => c.method === 'complete')).toHaveLength(1);
    expect(h.logs.of('warn')).toEqual([expect.stringContaining(`Job ${b} (work): complete skipped, its claim no longer holds`)]);
    expect(h.events.filter((e) => e.name === 'job.succeeded').map((e) => e.id)).toEqual([a]);
    await h.runner.stop();
  });

  it('a failure is retried after the backoff on the store clock, then dead-lettered on the last attempt', async () => {
    const h = harness({ flaky: { invoke: async () => { throw new Error('boom'); } } });
    const id = await h.enqueue('flaky', {}, { maxAttempts: 2 });
    h.runner.start();
    await until('retried', () => h.store.rows()[0]?.lastError === 'boom');
    expect(h.store.rows()[0]).toMatchObject({ id, attempts: 1, claimToken: null, runAt: h.store.clock.now() + 1_000 });
    h.store.clock.advance(1_000);
    await h.runner.poll();
    await until('dead-lettered', () => h.store.deadLetterRows().length === 1);
    expect(h.store.deadLetterRows()[0]).toMatchObject({ jobId: id, attempts: 2, errorMessage: 'boom' });
    expect(h.events.map((e) => e.name)).toEqual(['job.started', 'job.failed', 'job.started', 'job.dead-lettered']);
    await h.runner.stop();
  });

  it('a type with its own concurrency never runs more at once, and saturated types are left out of claims', async () => {
    let running = 0;
    let most = 0;
    const gates = [deferred(), deferred(), deferred()];
    let next = 0;
    const h = harness({
      one: {
        concurrency: 1,
        invoke: async () => {
          running++;
          most = Math.max(most, running);
          await gates[next++].promise;
          running--;
        },
      },
      other: { invoke: ok },
    });
    for (let i = 0; i < 3; i++) await h.enqueue('one');
    h.runner.start();
    await until('first running', () => running === 1);
    await h.enqueue('other');
    await h.runner.poll();
    await until('other done', () => !h.store.rows().some((r) => r.type === 'other'));
    const excluded = h.store.calls.filter((c) => c.method === 'claim').map((c) => (c.args[0] as { excludeTypes?: string[] }).excludeTypes);
    expect(excluded).toContainEqual(['one']);
    for (let i = 0; i < 3; i++) {
      await until(`job ${i} started`, () => next === i + 1);
      gates[i].resolve();
      await until(`job ${i} done`, () => running === 0);
      await h.runner.poll();
    }
    await until('all deleted', () => h.store.rows().length === 0);
    expect(most).toBe(1);
    await h.runner.stop();
  });

  it('logs a database outage once, and its end only after the quiet window on the runner clock', async () => {
    const h = harness({ work: { invoke: ok } }, { pollIntervalMs: 1_000 });
    h.store.failNext('claim', new Error('connection refused'));
    h.store.failNext('claim', new Error('connection refused'));
    h.runner.start();
    await h.runner.poll();
    await h.runner.poll();
    await h.runner.poll(); // answers, but within the quiet window after the last failure
    expect(h.logs.of('error')).toEqual([expect.stringContaining('Could not claim jobs: connection refused.')]);
    expect(h.logs.of('log')).toEqual([]);
    h.store.clock.advance(2_000);
    await h.runner.poll();
    expect(h.logs.of('log')).toEqual(['The database answers again; claiming resumed.']);
    await h.runner.stop();
  });

  it('stop() with a claim in flight gives its jobs straight back, attempt not consumed, handler never called', async () => {
    let calls = 0;
    const h = harness({ work: { invoke: async () => void calls++ } });
    const id = await h.enqueue('work');
    const claiming = h.store.hold('claim');
    h.runner.start();
    await claiming.waiting;
    const stopped = h.runner.stop();
    claiming.release();
    await stopped;
    expect(calls).toBe(0);
    expect(h.store.rows()).toEqual([expect.objectContaining({ id, attempts: 0, claimToken: null, lockedUntil: null })]);
    expect(h.logs.of('log')).toContain('Runner stopped: 0 running handler(s) finished, 0 job(s) released.');
  });

  it('stop() with jobs in every state: waits for settles under way, releases only the handlers still running at the timeout', async () => {
    const hang = deferred();
    let hungSignal: AbortSignal | undefined;
    const h = harness(
      {
        hangs: { invoke: async (_p, job: JobContext) => { hungSignal = job.signal; await hang.promise; } },
        fails: { invoke: async () => { throw new Error('nope'); } },
        passes: { invoke: ok },
      },
      { shutdownTimeoutMs: 50 },
    );
    const retrying = h.store.hold('retry');
    const deleting = h.store.hold('completeUnderLease');
    const hung = await h.enqueue('hangs');
    const failed = await h.enqueue('fails');
    const passed = await h.enqueue('passes');
    h.runner.start();
    await retrying.waiting;
    await deleting.waiting;
    expect(h.runner.inFlight).toBe(1); // the hanging handler; the other two are settling
    const stopped = h.runner.stop();
    setTimeout(() => { retrying.release(); deleting.release(); }, 10); // both settles finish before the timeout
    await stopped;
    expect(hungSignal?.aborted).toBe(true);
    const rows = new Map(h.store.rows().map((r) => [r.id, r]));
    expect(rows.get(hung)).toMatchObject({ attempts: 0, claimToken: null }); // released, attempt handed back
    expect(rows.get(failed)).toMatchObject({ attempts: 1, lastError: 'nope', claimToken: null }); // retry written
    expect(rows.has(passed)).toBe(false); // deleted
    expect(h.logs.of('warn')).toEqual([expect.stringContaining('Shutdown timeout (50 ms) passed with 1 handler(s) still running: aborted them and released 1 job(s)')]);
    expect(h.logs.of('log')).toContain('Runner stopped: 2 running handler(s) finished, 1 job(s) released.');
    hang.resolve(); // the aborted handler returns late: nothing is written for it
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.store.rows().find((r) => r.id === hung)).toMatchObject({ attempts: 0, claimToken: null });
    expect(h.events.filter((e) => e.name === 'job.succeeded').map((e) => e.id)).toEqual([passed]);
  });
});
