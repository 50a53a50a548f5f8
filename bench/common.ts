/**
 * Shared by the orchestrator (bench/run.ts) and the worker processes (bench/worker.ts):
 * settings from the environment, the systems' configurations, database helpers.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';

/**
 * The repository root. The bench runs compiled (from .bench-build/bench) or from source
 * (bench/): either way the nearest package.json up the tree is the repository's.
 */
export const ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

export type SystemName = 'doctor-job' | 'graphile-worker' | 'pg-boss' | 'raw';
export const SYSTEMS: SystemName[] = ['doctor-job', 'graphile-worker', 'pg-boss', 'raw'];

const QUICK = process.env.BENCH_QUICK === '1';

function intEnv(name: string, full: number, quick: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** A setting of a single bench script (enqueue-overhead.ts, standalone-enqueue.ts): a positive integer, `fallback` when unset (no BENCH_QUICK size, unlike `settings`). */
export function positiveIntEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] || fallback);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${process.env[name]}"`);
  return value;
}

function listEnv(name: string, fallback: string): string[] {
  return (process.env[name] || fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Workload sizes: BENCH_* environment variables, defaults for the full run and for BENCH_QUICK=1. */
export const settings = {
  quick: QUICK,
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
  systems: listEnv('BENCH_SYSTEMS', SYSTEMS.join(',')) as SystemName[],
  workloads: listEnv('BENCH_WORKLOADS', 'overhead,enqueue,drain,drain-warm,latency,memory,scale'),
  drainJobs: intEnv('BENCH_DRAIN_JOBS', 20_000, 5_000),
  enqueueSingle: intEnv('BENCH_ENQUEUE_JOBS', 2_000, 300),
  bulkSize: intEnv('BENCH_BULK_SIZE', 1_000, 1_000),
  overheadTx: intEnv('BENCH_OVERHEAD_TX', 500, 100),
  /**
   * Doctor Job's enqueue beside a bare INSERT (issue 15 item 2): 2 × this many transactions per arm
   * one at a time (blocks of 25), and 8 blocks of this many per arm at once. Long, because at 500
   * it moved by more than its 0.05 ms target from run to run (BENCHMARKS.md, ninth pass).
   */
  besideBareTx: intEnv('BENCH_BESIDE_BARE_TX', 3_000, 100),
  /** The concurrent part of the overhead workload: this many transactions in flight at once. */
  overheadConcurrency: intEnv('BENCH_OVERHEAD_CONCURRENCY', 16, 16),
  latencyRate: intEnv('BENCH_LATENCY_RATE', 20, 20),
  latencySeconds: intEnv('BENCH_LATENCY_SECONDS', 10, 3),
  memoryJobs: intEnv('BENCH_MEMORY_JOBS', 200_000, 20_000),
  memoryPeers: process.env.BENCH_MEMORY_PEERS !== '0',
  scaleJobs: intEnv('BENCH_SCALE_JOBS', 20_000, 5_000),
  /** Drains (and each scale step) run this many times; the run with the median rate is reported. */
  repeats: intEnv('BENCH_REPEATS', 3, 1),
  scaleWorkers: listEnv('BENCH_SCALE_WORKERS', '1,2,4').map(Number),
  scaleSystems: listEnv('BENCH_SCALE_SYSTEMS', 'doctor-job,raw') as SystemName[],
  rssSampleMs: intEnv('BENCH_RSS_SAMPLE_MS', 50, 50),
};

/** The configuration each system runs with (workers), printed with the results. */
export const doctorJobConfig = {
  // Tuned for throughput (the peers get theirs): big claims, many slots. LISTEN/NOTIFY is on (the default).
  default: {
    pollIntervalMs: Number(process.env.BENCH_DJ_POLL_MS || 1_000),
    batchSize: Number(process.env.BENCH_DJ_BATCH || 1_000),
    concurrency: Number(process.env.BENCH_DJ_CONCURRENCY || 2_000),
  },
  // The library's defaults (DEFAULT_OPTIONS) but for a shorter poll, for the latency workload.
  fastPoll: {
    pollIntervalMs: Number(process.env.BENCH_DJ_FAST_POLL_MS || 100),
    batchSize: 20,
    concurrency: 10,
  },
};

/** graphile-worker: the configuration of https://worker.graphile.org/docs/performance (0.17 preset options). */
export const graphileConfig = {
  concurrentJobs: 24,
  maxPoolSize: 25,
  pollInterval: 2_000,
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};

/** pg-boss 10: `work()` called `workers` times, each fetching `batchSize` jobs per poll. */
export const pgBossConfig = {
  queue: 'bench-noop',
  workers: Number(process.env.BENCH_PGBOSS_WORKERS || 4),
  batchSize: Number(process.env.BENCH_PGBOSS_BATCH || 1000),
  pollingIntervalSeconds: 0.5, // the minimum pg-boss 10 accepts
  max: 10, // pool size (default)
};

/** The raw floor: plain pg, `loops` claim loops per process, each claiming `batchSize` jobs and deleting them in one statement. */
export const rawConfig = {
  loops: Number(process.env.BENCH_RAW_LOOPS || 2),
  batchSize: Number(process.env.BENCH_RAW_BATCH || 1000),
  pollIntervalMs: Number(process.env.BENCH_RAW_POLL_MS || 50),
};

export function describeConfig(system: SystemName): string {
  switch (system) {
    case 'doctor-job':
      return (
        `DoctorJobModule.forRoot: pollIntervalMs ${doctorJobConfig.default.pollIntervalMs}, batchSize ${doctorJobConfig.default.batchSize}, ` +
        `concurrency ${doctorJobConfig.default.concurrency}, leaseMs 60000; Prisma 7 + @prisma/adapter-pg (pg pool max 10) for enqueues, claims and settles through the runner pool (runnerPool default: pg, 2 connections); ` +
        `LISTEN/NOTIFY on; handler without DTO; latency also with the library defaults (batchSize 20, concurrency 10) and pollIntervalMs ${doctorJobConfig.fastPoll.pollIntervalMs}`
      );
    case 'graphile-worker':
      return (
        `preset.worker: concurrentJobs ${graphileConfig.concurrentJobs}, maxPoolSize ${graphileConfig.maxPoolSize}, ` +
        `localQueue.size ${graphileConfig.localQueue.size}, completeJobBatchDelay ${graphileConfig.completeJobBatchDelay}, ` +
        `failJobBatchDelay ${graphileConfig.failJobBatchDelay}, pollInterval ${graphileConfig.pollInterval} (LISTEN/NOTIFY for new jobs); quiet logger`
      );
    case 'pg-boss':
      return (
        `work() x${pgBossConfig.workers}, batchSize ${pgBossConfig.batchSize}, pollingIntervalSeconds ${pgBossConfig.pollingIntervalSeconds} ` +
        `(a worker waits out the interval even after a full batch: ceiling ${(pgBossConfig.workers * pgBossConfig.batchSize) / pgBossConfig.pollingIntervalSeconds} jobs/s); ` +
        `queue policy standard; pool max ${pgBossConfig.max}; schedule off; completion = one complete(ids) per batch`
      );
    case 'raw':
      return (
        `plain pg, doctor_job table (same migration); ${rawConfig.loops} claim loops/process, UPDATE .. FOR UPDATE SKIP LOCKED LIMIT ${rawConfig.batchSize} ` +
        `+ one DELETE .. WHERE id = ANY(..) per batch; poll ${rawConfig.pollIntervalMs} ms when the queue is empty`
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Databases

export function databaseUrl(name: string): string {
  const url = new URL(settings.adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(system: SystemName): Promise<{ name: string; url: string }> {
  const name = `bench_${system.replace(/-/g, '_')}_${randomBytes(4).toString('hex')}`;
  await withClient(settings.adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  return { name, url: databaseUrl(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await withClient(settings.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Doctor Job's own migrations, in order (the raw floor uses the same table, fill factor included). */
export function doctorJobMigrationSql(): string {
  const dir = join(ROOT, 'prisma', 'postgresql', 'migrations');
  return readdirSync(dir)
    .filter((name) => /^\d+_doctor_job/.test(name))
    .sort()
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'))
    .join('\n');
}

/** The business table of the overhead workload. */
export const BUSINESS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS "bench_order" (
  "id" BIGSERIAL PRIMARY KEY,
  "customer" TEXT NOT NULL,
  "amount_cents" INTEGER NOT NULL,
  "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

// ---------------------------------------------------------------------------------------------
// Numbers

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Wall-clock time in ms with sub-ms precision, comparable across processes of one machine. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Messages from a worker process to the orchestrator. */
export type WorkerMessage =
  | { type: 'ready'; rss: number }
  | { type: 'progress'; handled: number; firstAt: number }
  | { type: 'stopped'; handled: number; peakRss: number; peakHeap: number; baseRss: number; duplicates: number; cpuMs: number; drainCpuMs?: number; drainMainCpuMs?: number }
  | { type: 'latency'; samples: number[]; lost: number }
  | { type: 'error'; message: string };

/** `go` of a drain with one worker carries the number of jobs queued: the worker reports the last one at once, not at its next progress tick. */
/** `warmUp`: an untimed drain; on `stop` the worker builds its consumer again and says `ready` for the timed one, in the same process. */
export type OrchestratorMessage = { cmd: 'go'; jobs?: number; warmUp?: boolean } | { cmd: 'stop' };

/** Runs a bench script's main(): exits with its code, cleans up (workers, databases) on the way out, on a failure and on Ctrl-C. */
export function runScript(main: () => Promise<number>, cleanup: () => Promise<void>, what: string): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: cleaning up ${what}\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  main()
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    })
    .catch(async (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      await cleanup();
      process.exit(1);
    });
}
