/**
 * The runner's own CPU per drained job, without a database: a JobRunner (the shipped one, tuned as
 * the bench's drain: batchSize 1000, concurrency 2000) against a store that answers every claim
 * and delete on the next turn of the event loop, as a network reply would arrive. What is left is
 * the runner's per-job work (claim decoding excluded: the store hands over ready ClaimedJobs),
 * which a drain-only run cannot separate from the driver and from PostgreSQL on 2 shared cores.
 *
 *   npm run build && npx tsc -p bench/tsconfig.build.json && node .bench-build/bench/drain-runner.js
 *
 * BENCH_RUNNER_JOBS (200,000) jobs per round, BENCH_RUNNER_ROUNDS (7) rounds after one untimed
 * warm-up; prints µs of CPU (process.cpuUsage) and of wall time per job for each round, and the medians.
 */
import { DEFAULT_OPTIONS } from '../lib/doctor-job.options';
import { JobEvents } from '../lib/events/job-events';
import type { RegisteredHandler } from '../lib/handlers/job-handler.registry';
import { JobRunner } from '../lib/runner/job-runner';
import type { ClaimedJob, ClaimParams, JobStore } from '../lib/store/job-store.interface';

const JOBS = Number(process.env.BENCH_RUNNER_JOBS || 200_000);
const ROUNDS = Number(process.env.BENCH_RUNNER_ROUNDS || 7);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A queue of `jobs` due jobs; claims and deletes answer on the next turn of the event loop. */
function instantStore(jobs: number, done: () => void): JobStore {
  let next = 1;
  let deleted = 0;
  const store = {
    dialect: 'postgresql',
    async claim({ limit }: ClaimParams): Promise<ClaimedJob[]> {
      await nextTurn();
      const batch: ClaimedJob[] = [];
      const createdAt = Date.now();
      for (; batch.length < limit && next <= jobs; next++) {
        batch.push({ id: String(next), type: 'noop', payload: { i: next }, attempt: 1, maxAttempts: 5, createdAt: new Date(createdAt), traceContext: null });
      }
      return batch;
    },
    async completeUnderLease(claims: { id: string }[]): Promise<number> {
      await nextTurn();
      deleted += claims.length;
      if (deleted === jobs) done();
      return claims.length;
    },
    async complete(claims: { id: string }[]): Promise<Set<string>> {
      await store.completeUnderLease(claims);
      return new Set();
    },
    async release(): Promise<number> {
      return 0;
    },
    async extend(ids: string[]): Promise<string[]> {
      return ids;
    },
    async listPausedTypes() {
      return [];
    },
    async registerInstance(): Promise<void> {},
    async pruneInstances(): Promise<number> {
      return 0;
    },
    async pruneAttempts(): Promise<number> {
      return 0;
    },
    async rebuildBloatedIndexes() {
      return { rebuilt: [], skipped: 'bench' };
    },
  };
  return store as unknown as JobStore;
}

async function round(): Promise<{ cpuUs: number; wallUs: number }> {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let handled = 0;
  const handler: RegisteredHandler = {
    type: 'noop',
    location: 'Bench.noop',
    // An async method, as a @JobHandler is, wrapped as the explorer wraps it.
    invoke: (payload) => {
      try {
        return Promise.resolve((async (_: unknown) => void handled++)(payload));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
  const quiet = { log: () => undefined, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
  const runner = new JobRunner(
    { concurrency: 2000, batchSize: 1000, leaseMs: 60_000, pollIntervalMs: 1000, shutdownTimeoutMs: 10_000, backoff: DEFAULT_OPTIONS.backoff, notify: false },
    { store: instantStore(JOBS, () => finish()), handlers: { get: () => handler, limited: () => new Set() }, events: new JobEvents(), logger: quiet },
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  runner.start();
  await finished;
  const wallUs = ((performance.now() - t0) * 1000) / JOBS;
  const cpu = process.cpuUsage(cpu0);
  await runner.stop();
  if (handled !== JOBS) throw new Error(`handled ${handled} of ${JOBS}`);
  return { cpuUs: (cpu.user + cpu.system) / JOBS, wallUs };
}

async function main(): Promise<void> {
  await round(); // warm-up: the JIT, the heap's first growth
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    const r = await round();
    cpu.push(r.cpuUs);
    wall.push(r.wallUs);
    console.log(`round ${k + 1}: ${r.cpuUs.toFixed(2)} µs CPU, ${r.wallUs.toFixed(2)} µs wall per job`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`median of ${ROUNDS} rounds of ${JOBS} jobs: ${median(cpu).toFixed(2)} µs CPU, ${median(wall).toFixed(2)} µs wall per job`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
