/**
 * `npm run bench`: Doctor Job against graphile-worker, pg-boss and a raw-SQL floor on PostgreSQL.
 * See bench/README.md. Sizes come from BENCH_* environment variables (bench/common.ts);
 * BENCH_QUICK=1 runs a smoke-sized version.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createDatabase,
  describeConfig,
  dropDatabase,
  mean,
  percentile,
  settings,
  sleep,
  wallNow,
  withClient,
  ROOT,
  type OrchestratorMessage,
  type SystemName,
  type WorkerMessage,
  runScript,
} from './common';
import { loadSystem, type Producer } from './systems/types';
import { Client } from 'pg';
import {
  asWorker,
  canStartPrivateCluster,
  costBetween,
  prepareCluster,
  snapshot,
  startPrivateCluster,
  tableState,
  WORKER_ROLE,
  type DbCost,
  type PrivateCluster,
  type TableState,
} from './db-cost';

const output: string[] = [];
function out(line = ''): void {
  output.push(line);
  process.stdout.write(line + '\n');
}
const log = (line: string) => out(`  · ${line}`);

// ---------------------------------------------------------------------------------------------
// Worker processes

const children = new Set<ChildProcess>();
const databases = new Set<string>();

/**
 * The database's cost per job (bench/db-cost.ts): on when pg_stat_statements can be read (the
 * private cluster, by default). `admin` is a connection to the cluster's `postgres` database.
 */
const cost: { admin?: Client; cluster?: PrivateCluster; note: string } = { note: 'off' };
const dbName = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));
/** Workers connect as WORKER_ROLE when the cost is measured, so the orchestrator's own queries are not counted. */
const workerUrl = (url: string) => (cost.admin ? asWorker(url) : url);

/** Runs `fn` between two snapshots of the counters of `url`'s database (statements of `role` only). */
async function measured<T>(url: string, role: string, jobs: number, fn: () => Promise<T>): Promise<{ value: T; dbCost?: DbCost }> {
  if (!cost.admin) return { value: await fn() };
  const before = await snapshot(cost.admin, dbName(url), role);
  const value = await fn();
  const after = await snapshot(cost.admin, dbName(url), role);
  return { value, dbCost: costBetween(before, after, jobs) };
}

/** Starts from a checkpoint, so that the full-page images the workload writes are the same in every run. */
async function checkpoint(): Promise<void> {
  if (cost.admin) await cost.admin.query('CHECKPOINT');
}

interface WorkerHandle {
  child: ChildProcess;
  handled: number;
  /** Wall time at which this worker's first handler started (0 before). */
  firstAt: number;
  wait<T extends WorkerMessage['type']>(type: T, timeoutMs: number): Promise<Extract<WorkerMessage, { type: T }>>;
  send(message: OrchestratorMessage): void;
  exited: Promise<number | null>;
}

function spawnWorker(system: SystemName, url: string, mode: 'drain' | 'latency', variant = 'default'): WorkerHandle {
  // Compiled (npm run bench): the worker is plain JS next to this file, and loads Doctor Job
  // from dist/ as an installed package would be loaded. From source: through @swc-node/register.
  const compiled = __filename.endsWith('.js');
  const child = fork(join(__dirname, compiled ? 'worker.js' : 'worker.ts'), [], {
    cwd: ROOT,
    execArgv: [...(compiled ? [] : ['-r', '@swc-node/register']), ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.sample.json', BENCH_SYSTEM: system, BENCH_DB_URL: workerUrl(url), BENCH_MODE: mode, BENCH_VARIANT: variant },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const inbox: WorkerMessage[] = [];
  const waiters: (() => void)[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      children.delete(child);
      waiters.splice(0).forEach((w) => w());
      resolve(code);
    }),
  );
  const handle: WorkerHandle = {
    child,
    handled: 0,
    firstAt: 0,
    exited,
    send: (message) => child.send(message),
    wait: async (type, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const idx = inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (idx >= 0) {
          const [m] = inbox.splice(idx, 1);
          if (m.type === 'error') throw new Error(`${system} worker failed: ${m.message}`);
          return m as any;
        }
        if (exitCode !== undefined) throw new Error(`${system} worker exited (code ${exitCode}) before "${type}"`);
        if (Date.now() > deadline) throw new Error(`${system} worker: no "${type}" within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
  };
  child.on('message', (m: WorkerMessage) => {
    if (m.type === 'progress') {
      handle.handled = m.handled;
      handle.firstAt = m.firstAt;
    }
    else inbox.push(m);
    waiters.splice(0).forEach((w) => w());
  });
  return handle;
}

async function dbTransactions(producer: Producer): Promise<number> {
  const [row] = await producer.sql<{ n: string }>(
    `SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(row.n);
}

async function vacuum(producer: Producer): Promise<void> {
  await producer.sql('VACUUM ANALYZE');
}

// ---------------------------------------------------------------------------------------------
// Workloads

interface DrainResult {
  jobs: number;
  workers: number;
  /** From the first handler start to the empty queue. */
  seconds: number;
  jobsPerSec: number;
  /** From `go` (start-up of the consumer: runner.start(), run(), work()) to the empty queue. */
  secondsFromGo: number;
  jobsPerSecFromGo: number;
  peakRssMb: number;
  /** Peak V8 heap used (the JS objects), sampled with the RSS. */
  peakHeapMb: number;
  baseRssMb: number;
  dbXactsPerJob: number;
  /** CPU time of the worker process(es) from go to stop, per job. */
  workerCpuUsPerJob: number;
  /** The same from the first handler's start to the last's (one worker told the drain's size), start-up and stop left out. */
  workerDrainCpuUsPerJob?: number;
  /** Of that, the main thread's (Linux); the rest is V8's helper threads (the optimising compiler, the GC's helpers). */
  workerDrainMainCpuUsPerJob?: number;
  /** Cores busy in the worker process(es) on average (CPU time / wall time). */
  workerCores: number;
  handled: number;
  duplicates: number;
  /** jobs/s of every run, in order, when the drain was repeated (the figures above are the median run's). */
  runs?: number[];
  /** What the drain cost the database (the workers' statements; WAL of the whole private cluster). */
  dbCost?: DbCost;
  /** The system's tables after the drain (before any vacuum). */
  tables?: TableState;
}

async function fill(producer: Producer, jobs: number, checkpointFirst = true): Promise<number> {
  if (checkpointFirst) await checkpoint();
  const t0 = performance.now();
  for (let from = 0; from < jobs; from += settings.bulkSize) await producer.enqueueBulk(from, Math.min(settings.bulkSize, jobs - from));
  return jobs / ((performance.now() - t0) / 1000);
}

/** Drains `jobs` pre-enqueued jobs with `workers` worker processes; the clock runs from `go` to an empty queue. */
async function drain(system: SystemName, url: string, producer: Producer, jobs: number, workers: number, warm = false): Promise<DrainResult> {
  const queued = await producer.remaining();
  if (queued !== jobs) throw new Error(`${system}: expected ${jobs} queued jobs, found ${queued}`);
  await vacuum(producer);
  const handles = Array.from({ length: workers }, () => spawnWorker(system, url, 'drain'));
  try {
    await Promise.all(handles.map((h) => h.wait('ready', 120_000)));
    if (warm) {
      // The same drain untimed, in the same worker processes; then the queue is filled again for the timed one.
      handles.forEach((h) => h.send({ cmd: 'go', jobs: workers === 1 ? jobs : undefined, warmUp: true }));
      await drained(system, producer, handles, jobs);
      handles.forEach((h) => h.send({ cmd: 'stop' }));
      await Promise.all(handles.map((h) => h.wait('ready', 120_000)));
      // Every progress message of the warm-up came before `ready`.
      for (const h of handles) (h.handled = 0), (h.firstAt = 0);
      await fill(producer, jobs);
      await vacuum(producer);
    }
    const counters0 = cost.admin ? await snapshot(cost.admin, dbName(url), WORKER_ROLE) : undefined;
    const xacts0 = await dbTransactions(producer);
    const go = wallNow();
    // One worker is told how many jobs there are, so the end of its drain is not rounded up to its 25 ms progress tick.
    handles.forEach((h) => h.send({ cmd: 'go', jobs: workers === 1 ? jobs : undefined }));
    await drained(system, producer, handles, jobs);
    const end = wallNow();
    const first = Math.min(...handles.map((h) => h.firstAt).filter((t) => t > 0));
    const seconds = (end - first) / 1000;
    const secondsFromGo = (end - go) / 1000;
    handles.forEach((h) => h.send({ cmd: 'stop' }));
    const stopped = await Promise.all(handles.map((h) => h.wait('stopped', 60_000)));
    await Promise.all(handles.map((h) => h.exited));
    await sleep(300); // stats of closed connections reach pg_stat_database
    const xacts1 = await dbTransactions(producer);
    const dbCost = counters0 ? costBetween(counters0, await snapshot(cost.admin!, dbName(url), WORKER_ROLE), jobs) : undefined;
    const tables = cost.admin ? await tableState(producer.sql) : undefined;
    const handled = stopped.reduce((s, m) => s + m.handled, 0);
    return {
      jobs,
      workers,
      seconds: round(seconds, 3),
      jobsPerSec: Math.round(jobs / seconds),
      secondsFromGo: round(secondsFromGo, 3),
      jobsPerSecFromGo: Math.round(jobs / secondsFromGo),
      peakRssMb: mb(Math.max(...stopped.map((m) => m.peakRss))),
      peakHeapMb: mb(Math.max(...stopped.map((m) => m.peakHeap))),
      baseRssMb: mb(Math.max(...stopped.map((m) => m.baseRss))),
      dbXactsPerJob: round((xacts1 - xacts0) / jobs, 2),
      workerCpuUsPerJob: round((stopped.reduce((s, m) => s + m.cpuMs, 0) * 1000) / jobs, 1),
      workerDrainCpuUsPerJob: stopped.every((m) => m.drainCpuMs !== undefined)
        ? round((stopped.reduce((s, m) => s + m.drainCpuMs!, 0) * 1000) / jobs, 2)
        : undefined,
      workerDrainMainCpuUsPerJob: stopped.every((m) => m.drainMainCpuMs !== undefined)
        ? round((stopped.reduce((s, m) => s + m.drainMainCpuMs!, 0) * 1000) / jobs, 2)
        : undefined,
      workerCores: round(stopped.reduce((s, m) => s + m.cpuMs, 0) / 1000 / secondsFromGo, 2),
      handled,
      duplicates: stopped.reduce((s, m) => s + m.duplicates, 0),
      dbCost,
      tables,
    };
  } finally {
    for (const h of handles) if (h.child.exitCode === null) h.child.kill('SIGKILL');
  }
}

/** Resolves once the workers have handled `jobs` jobs and the queue is empty. */
async function drained(system: SystemName, producer: Producer, handles: WorkerHandle[], jobs: number): Promise<void> {
  const t0 = performance.now();
  const timeoutMs = 120_000 + jobs * 10; // at least 100 jobs/s
  const total = () => handles.reduce((sum, h) => sum + h.handled, 0);
  while (total() < jobs) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${system}: drain of ${jobs} jobs not done after ${timeoutMs} ms (${total()} handled)`);
    for (const h of handles) if (h.child.exitCode !== null) throw new Error(`${system} worker exited during the drain`);
    await sleep(5);
  }
  while ((await producer.remaining()) > 0) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${system}: queue not empty after ${timeoutMs} ms`);
    await sleep(5);
  }
}

/**
 * Repeats a drain `settings.repeats` times (refilling the queue in between) and returns the run
 * with the median rate, with the rates of all runs: one drain of 20,000 jobs lasts about half a
 * second, so a single run on a shared 2-core machine says little.
 */
async function repeatedDrain(system: SystemName, url: string, producer: Producer, jobs: number, workers: number, warm = false): Promise<DrainResult> {
  const results: DrainResult[] = [];
  for (let k = 0; k < settings.repeats; k++) {
    if ((await producer.remaining()) !== jobs) {
      await producer.clear();
      await fill(producer, jobs);
    }
    results.push(await drain(system, url, producer, jobs, workers, warm));
  }
  const median = [...results].sort((a, b) => a.jobsPerSec - b.jobsPerSec)[Math.floor((results.length - 1) / 2)];
  return { ...median, runs: results.map((r) => r.jobsPerSec) };
}

async function enqueueWorkload(url: string, producer: Producer, bulkJobs: number) {
  await producer.clear();
  const n = settings.enqueueSingle;
  for (let i = 0; i < 200; i++) await producer.enqueueOne(-1 - i); // warm-up, untimed
  await producer.clear();
  await checkpoint();
  // The producer is the orchestrator's, connected as the admin URL's user.
  const role = new URL(settings.adminUrl).username || 'postgres';
  const { value: singleMs, dbCost: singleDbCost } = await measured(url, role, n, async () => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await producer.enqueueOne(i);
    return performance.now() - t0;
  });
  const single = n / (singleMs / 1000);
  const singleMeanMs = singleMs / n;
  await producer.clear();
  await checkpoint();
  const { value: bulk, dbCost: bulkDbCost } = await measured(url, role, bulkJobs, () => fill(producer, bulkJobs, false)); // leaves the queue full for the drain
  return {
    singleJobs: n,
    singleJobsPerSec: Math.round(single),
    singleMeanMs: round(singleMeanMs, 3),
    bulkJobs,
    bulkSize: settings.bulkSize,
    bulkJobsPerSec: Math.round(bulk),
    singleDbCost,
    bulkDbCost,
  };
}

async function overheadWorkload(producer: Producer) {
  if (!producer.txEnqueueHow) return { available: false as const };
  const warm = 300; // pairs, untimed: the first system measured would otherwise pay for cold JIT
  for (let i = 0; i < warm; i++) {
    await producer.businessTx(i, false);
    await producer.businessTx(i, true);
  }
  const without: number[] = [];
  const withJob: number[] = [];
  for (let i = 0; i < settings.overheadTx; i++) {
    // Alternate the order so that drift (autovacuum, cache) hits both sides alike.
    for (const enqueue of i % 2 ? [true, false] : [false, true]) {
      const t0 = performance.now();
      await producer.businessTx(i, enqueue);
      (enqueue ? withJob : without).push(performance.now() - t0);
    }
  }
  await producer.clear();
  const a = mean(without);
  const b = mean(withJob);
  // Many requests at once, as in a busy app: transactions per second with `concurrency` in flight
  // (through the same Prisma client, pool max 10). Two rounds of each side, alternated.
  const concurrency = settings.overheadConcurrency;
  const count = settings.overheadTx * 4;
  const rates = { without: [] as number[], with: [] as number[] };
  for (const enqueue of [false, true, true, false]) {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await producer.businessTx(next++, enqueue);
      }),
    );
    rates[enqueue ? 'with' : 'without'].push(count / ((performance.now() - t0) / 1000));
  }
  await producer.clear();
  const txPerSecWithout = mean(rates.without);
  const txPerSecWith = mean(rates.with);
  const besideBareInsert = producer.bareInsertTx ? await besideBare(producer, producer.bareInsertTx.bind(producer)) : undefined;
  // The same with another instance listening: Doctor Job then wakes it after the commits (a NOTIFY, spaced: announcer.ts).
  let listened: typeof besideBareInsert;
  if (producer.bareInsertTx && producer.anotherInstanceListens) {
    const disconnect = await producer.anotherInstanceListens();
    try {
      await sleep(1_100); // the producer's last answer "alone" (other-listeners.ts) is too old to trust by now
      listened = await besideBare(producer, producer.bareInsertTx.bind(producer));
    } finally {
      await disconnect();
    }
  }
  return {
    available: true as const,
    how: producer.txEnqueueHow,
    transactions: settings.overheadTx,
    meanMsWithout: round(a, 3),
    meanMsWith: round(b, 3),
    ratio: round(b / a, 3),
    addedMs: round(b - a, 3),
    concurrent: {
      concurrency,
      transactions: count,
      txPerSecWithout: Math.round(txPerSecWithout),
      txPerSecWith: Math.round(txPerSecWith),
      /** Throughput lost to the enqueue, as a ratio like `ratio` (time per transaction). */
      ratio: round(txPerSecWithout / txPerSecWith, 3),
    },
    besideBareInsert,
    /** besideBareInsert with another instance's listener connected. */
    besideBareListened: listened,
  };
}

/** A difference with its sign: +0.05, -0.01. */
const signed = (x: number) => (x < 0 ? String(x) : `+${x}`);

/**
 * The enqueue against a bare INSERT of its row, in the same process and transaction shape
 * (issue 15 item 2: the time an enqueue adds beyond the insert's own). The sections of two systems
 * run minutes apart, and the machine's speed drifts by more than the difference; here the two
 * arms alternate in blocks (ABBA), so that work an arm leaves behind it (Doctor Job's NOTIFY after
 * the commit) lands in its own block, and each block is compared with its neighbour.
 */
async function besideBare(producer: Producer, bare: (i: number) => Promise<void>) {
  const arms = [(i: number) => producer.businessTx(i, true), bare];
  const block = 25;
  const blocks = Math.max(4, Math.round((settings.besideBareTx * 2) / block)); // per arm
  const perTx: number[][] = [[], []];
  /** Each block's median transaction, per arm (a commit's flush that stalls hits one block's mean, not its median). */
  const typical: number[][] = [[], []];
  let i = 0;
  const times: number[] = [];
  for (let b = 0; b < blocks; b++) {
    for (const arm of b % 2 ? [1, 0] : [0, 1]) {
      times.length = 0;
      const t0 = performance.now();
      for (let k = 0; k < block; k++) {
        const t = performance.now();
        await arms[arm](i++);
        times.push(performance.now() - t);
      }
      perTx[arm].push((performance.now() - t0) / block);
      typical[arm].push(percentile(times.sort((x, y) => x - y), 50));
    }
  }
  await producer.clear();
  // 16 at once: blocks of besideBareTx transactions, 8 per arm, alternating (ABBA), through the same client.
  const rates: number[][] = [[], []];
  const count = settings.besideBareTx;
  for (const arm of [0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0]) {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: settings.overheadConcurrency }, async () => {
        while (next < count) await arms[arm](next++);
      }),
    );
    rates[arm].push(count / ((performance.now() - t0) / 1000));
  }
  await producer.clear();
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const ms = (rate: number) => 1000 / rate;
  return {
    blocks,
    block,
    /** Mean ms per transaction: with the enqueue, with the bare INSERT. */
    meanMsEnqueue: round(mean(perTx[0]), 3),
    meanMsBare: round(mean(perTx[1]), 3),
    /** Median over neighbouring blocks of (enqueue − bare INSERT) ms per transaction. */
    addedMs: round(median(perTx[0].map((t, b) => t - perTx[1][b])), 3),
    /** The same with each block's median transaction instead of its mean. */
    typicalAddedMs: round(median(typical[0].map((t, b) => t - typical[1][b])), 3),
    concurrency: settings.overheadConcurrency,
    txPerSecEnqueue: Math.round(mean(rates[0])),
    txPerSecBare: Math.round(mean(rates[1])),
    /** ms per transaction of throughput, 1000 / rate, enqueue − bare INSERT (block pairs' median). */
    concurrentAddedMs: round(median(rates[0].map((r, b) => ms(r) - ms(rates[1][b]))), 3),
  };
}

/**
 * The standalone enqueue (issue 15 item 1): BENCH_ENQUEUE_JOBS jobs one by one, sequentially,
 * each outside any transaction of the app's (sendOne), after 200 untimed; then the latency
 * workload with that producer (Doctor Job: variant 'standalone'; the peers' producers are standalone already).
 */
async function standaloneWorkload(system: SystemName, url: string, producer: Producer) {
  await producer.clear();
  const n = settings.enqueueSingle;
  for (let i = 0; i < 200; i++) await producer.sendOne(-1 - i); // warm-up, untimed
  await producer.clear();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await producer.sendOne(i);
  const ms = performance.now() - t0;
  await producer.clear();
  const latency = await latencyWorkload(system, url, producer, system === 'doctor-job' ? 'standalone' : 'default');
  return { jobs: n, jobsPerSec: Math.round(n / (ms / 1000)), meanMs: round(ms / n, 3), latency };
}

async function latencyWorkload(system: SystemName, url: string, producer: Producer, variant: string) {
  await producer.clear();
  await vacuum(producer);
  const h = spawnWorker(system, url, 'latency', variant);
  try {
    await h.wait('ready', 120_000);
    h.send({ cmd: 'go' });
    const result = await h.wait('latency', (settings.latencySeconds + 40) * 1000);
    h.send({ cmd: 'stop' });
    await h.wait('stopped', 60_000);
    await h.exited;
    const sorted = [...result.samples].sort((x, y) => x - y);
    return {
      variant,
      rate: settings.latencyRate,
      seconds: settings.latencySeconds,
      samples: sorted.length,
      lost: result.lost,
      p50: round(percentile(sorted, 50), 1),
      p95: round(percentile(sorted, 95), 1),
      p99: round(percentile(sorted, 99), 1),
      max: round(sorted[sorted.length - 1], 1),
    };
  } finally {
    if (h.child.exitCode === null) h.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------

const round = (x: number, digits: number) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
const want = (workload: string) => settings.workloads.includes(workload);

type SystemResult = {
  config: string;
  overhead?: Awaited<ReturnType<typeof overheadWorkload>>;
  enqueue?: Awaited<ReturnType<typeof enqueueWorkload>>;
  standalone?: Awaited<ReturnType<typeof standaloneWorkload>>;
  drain?: DrainResult;
  /** The same drain in a worker process that has drained as many jobs just before (untimed). */
  drainWarm?: DrainResult;
  latency?: Awaited<ReturnType<typeof latencyWorkload>>[];
  memory?: DrainResult & { fillJobsPerSec: number };
  scale?: DrainResult[];
  error?: string;
};

async function benchSystem(system: SystemName): Promise<SystemResult> {
  const result: SystemResult = { config: describeConfig(system) };
  const db = await createDatabase(system);
  databases.add(db.name);
  out(`\n${system}  (database ${db.name})`);
  const producer = await loadSystem(system).makeProducer(db.url);
  try {
    if (want('overhead')) {
      log(`overhead: ${settings.overheadTx} business transactions with and without an enqueue`);
      result.overhead = await overheadWorkload(producer);
      if (result.overhead.available) {
        const c = result.overhead.concurrent;
        log(`  ${result.overhead.meanMsWithout} ms → ${result.overhead.meanMsWith} ms (x${result.overhead.ratio})`);
        const bare = result.overhead.besideBareInsert;
        if (bare) log(`  beside a bare INSERT: ${signed(bare.addedMs)} ms one at a time (block medians: ${signed(bare.typicalAddedMs)}), ${signed(bare.concurrentAddedMs)} ms/tx ${bare.concurrency} at once`);
        const heard = result.overhead.besideBareListened;
        if (heard) log(`  the same, another instance listening: ${signed(heard.addedMs)} ms one at a time (block medians: ${signed(heard.typicalAddedMs)}), ${signed(heard.concurrentAddedMs)} ms/tx ${heard.concurrency} at once`);
        log(`  ${c.concurrency} at once: ${c.txPerSecWithout} → ${c.txPerSecWith} tx/s (x${c.ratio})`);
      }
    }
    if (want('enqueue') || want('standalone')) {
      log(`standalone enqueue: ${settings.enqueueSingle} jobs one by one outside any transaction, then latency at ${settings.latencyRate}/s`);
      result.standalone = await standaloneWorkload(system, db.url, producer);
      const l = result.standalone.latency;
      log(`  ${result.standalone.jobsPerSec} jobs/s; call → handler start p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms (${l.samples} samples, ${l.lost} lost)`);
    }
    if (want('enqueue')) {
      log(`enqueue: ${settings.enqueueSingle} single, then ${settings.drainJobs} in calls of ${settings.bulkSize}`);
      result.enqueue = await enqueueWorkload(db.url, producer, settings.drainJobs);
      log(`  single ${result.enqueue.singleJobsPerSec} jobs/s, bulk ${result.enqueue.bulkJobsPerSec} jobs/s`);
    }
    if (want('drain')) {
      if (!want('enqueue') || (await producer.remaining()) !== settings.drainJobs) {
        await producer.clear();
        await fill(producer, settings.drainJobs);
      }
      log(`drain: ${settings.drainJobs} jobs, 1 worker process, ${settings.repeats} run(s)`);
      result.drain = await repeatedDrain(system, db.url, producer, settings.drainJobs, 1);
      log(`  ${result.drain.jobsPerSec} jobs/s in ${result.drain.seconds} s, peak RSS ${result.drain.peakRssMb} MB, ${result.drain.dbXactsPerJob} db xacts/job`);
    }
    if (want('drain-warm')) {
      if ((await producer.remaining()) !== settings.drainJobs) {
        await producer.clear();
        await fill(producer, settings.drainJobs);
      }
      log(`drain, warm process: ${settings.drainJobs} jobs after an untimed drain of as many in the same worker process, ${settings.repeats} run(s)`);
      result.drainWarm = await repeatedDrain(system, db.url, producer, settings.drainJobs, 1, true);
      log(`  ${result.drainWarm.jobsPerSec} jobs/s in ${result.drainWarm.seconds} s, worker CPU ${result.drainWarm.workerCpuUsPerJob} µs/job`);
    }
    if (want('latency')) {
      result.latency = [];
      for (const variant of system === 'doctor-job' ? ['default', 'fastPoll'] : ['default']) {
        log(`latency: ${settings.latencyRate} jobs/s for ${settings.latencySeconds} s (${variant})`);
        const l = await latencyWorkload(system, db.url, producer, variant);
        result.latency.push(l);
        log(`  p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms (${l.samples} samples, ${l.lost} lost)`);
      }
    }
    if (want('memory') && (system === 'doctor-job' || settings.memoryPeers)) {
      await producer.clear();
      log(`memory: enqueue ${settings.memoryJobs} jobs, drain them in 1 worker process`);
      const fillJobsPerSec = Math.round(await fill(producer, settings.memoryJobs));
      result.memory = { ...(await drain(system, db.url, producer, settings.memoryJobs, 1)), fillJobsPerSec };
      log(`  peak RSS ${result.memory.peakRssMb} MB (${result.memory.baseRssMb} MB at ready), ${result.memory.jobsPerSec} jobs/s`);
    }
    if (want('scale') && settings.scaleSystems.includes(system)) {
      result.scale = [];
      for (const workers of settings.scaleWorkers) {
        await producer.clear();
        await fill(producer, settings.scaleJobs);
        log(`scale: ${settings.scaleJobs} jobs, ${workers} worker process(es), ${settings.repeats} run(s)`);
        const r = await repeatedDrain(system, db.url, producer, settings.scaleJobs, workers);
        result.scale.push(r);
        log(`  ${r.jobsPerSec} jobs/s, ${r.dbXactsPerJob} db xacts/job`);
      }
    }
  } catch (error) {
    result.error = String((error as Error)?.stack ?? error);
    out(`  ! ${system} failed: ${(error as Error)?.message ?? error}`);
  } finally {
    await producer.close().catch(() => {});
    await dropDatabase(db.name);
    databases.delete(db.name);
  }
  return result;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}

function report(results: Partial<Record<SystemName, SystemResult>>, meta: Record<string, unknown>) {
  const systems = Object.keys(results) as SystemName[];
  const cell = (fn: (r: SystemResult) => unknown) => systems.map((s) => {
    try {
      const v = fn(results[s]!);
      return v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '-' : String(v);
    } catch {
      return '-';
    }
  });
  const lat = (r: SystemResult, variant: string) => r.latency?.find((l) => l.variant === variant);
  const both = (d: DrainResult | undefined) =>
    d?.workerDrainCpuUsPerJob === undefined ? undefined : `${d.workerDrainCpuUsPerJob} / ${d.workerDrainMainCpuUsPerJob ?? '-'}`;
  const costCell = (c?: DbCost) => c && `${c.walBytesPerJob} / ${c.buffersPerJob} / ${c.statementsPerJob}`;
  const scaleCell = (r: SystemResult) => (r.scale?.length ? r.scale.map((x) => `${x.workers}:${x.jobsPerSec}`).join(' ') : undefined);
  const scaleRuns = (r: SystemResult) => (r.scale?.length ? r.scale.map((x) => `${x.workers}:${x.runs?.join('/')}`).join(' ') : undefined);
  const rows: string[][] = [
    ['metric', ...systems],
    [`drain ${settings.drainJobs} jobs, 1 process (jobs/s, median run)`, ...cell((r) => r.drain?.jobsPerSec)],
    ['  drain: jobs/s of each run', ...cell((r) => r.drain?.runs?.join(' '))],
    ['  drain: seconds (first handler → empty queue)', ...cell((r) => r.drain?.seconds)],
    ['  drain: jobs/s counting consumer start-up', ...cell((r) => r.drain?.jobsPerSecFromGo)],
    ['  drain: peak RSS of the worker (MB)', ...cell((r) => r.drain?.peakRssMb)],
    ['  drain: DB transactions per job', ...cell((r) => r.drain?.dbXactsPerJob)],
    ['  drain: worker CPU per job (µs)', ...cell((r) => r.drain?.workerCpuUsPerJob)],
    ['  drain: worker CPU per job, first to last handler: all / main thread (µs)', ...cell((r) => both(r.drain))],
    ['  drain: worker cores busy', ...cell((r) => r.drain?.workerCores)],
    ['  drain DB cost: WAL bytes per job', ...cell((r) => r.drain?.dbCost?.walBytesPerJob)],
    ['  drain DB cost: WAL records / full-page images per job (statements)', ...cell((r) => r.drain?.dbCost && `${r.drain.dbCost.walRecordsPerJob} / ${r.drain.dbCost.walFpiPerJob}`)],
    ['  drain DB cost: shared buffers hit+read per job', ...cell((r) => r.drain?.dbCost?.buffersPerJob)],
    ['  drain DB cost: statements per job', ...cell((r) => r.drain?.dbCost?.statementsPerJob)],
    ['  drain DB cost: statement execution per job (µs)', ...cell((r) => r.drain?.dbCost?.execUsPerJob)],
    ['  drain DB cost: queue tables after (kB / dead tuples)', ...cell((r) => r.drain?.tables && `${r.drain.tables.totalKb} / ${r.drain.tables.deadTuples}`)],
    [`drain ${settings.drainJobs} jobs, warm process (jobs/s, median run)`, ...cell((r) => r.drainWarm?.jobsPerSec)],
    ['  drain, warm: jobs/s of each run', ...cell((r) => r.drainWarm?.runs?.join(' '))],
    ['  drain, warm: worker CPU per job (µs)', ...cell((r) => r.drainWarm?.workerCpuUsPerJob)],
    ['  drain, warm: worker CPU per job, first to last handler: all / main thread (µs)', ...cell((r) => both(r.drainWarm))],
    ['  drain, warm DB cost: statement execution per job (µs)', ...cell((r) => r.drainWarm?.dbCost?.execUsPerJob)],
    [`enqueue: 1 job per transaction (jobs/s)`, ...cell((r) => r.enqueue?.singleJobsPerSec)],
    ['standalone enqueue: 1 job per call, no transaction (jobs/s)', ...cell((r) => r.standalone?.jobsPerSec)],
    [`  standalone: call → handler start p50/p95/p99 (ms), ${settings.latencyRate}/s`, ...cell((r) => r.standalone && `${r.standalone.latency.p50}/${r.standalone.latency.p95}/${r.standalone.latency.p99}`)],
    [`enqueue: ${settings.bulkSize} jobs per call (jobs/s)`, ...cell((r) => r.enqueue?.bulkJobsPerSec)],
    ['  enqueue DB cost, 1 per tx: WAL B / buffers / statements per job', ...cell((r) => costCell(r.enqueue?.singleDbCost))],
    [`  enqueue DB cost, ${settings.bulkSize} per call: WAL B / buffers / statements per job`, ...cell((r) => costCell(r.enqueue?.bulkDbCost))],
    ['overhead: business tx alone (mean ms)', ...cell((r) => (r.overhead ? (r.overhead.available ? r.overhead.meanMsWithout : 'n/a') : undefined))],
    ['overhead: business tx + enqueue (mean ms)', ...cell((r) => (r.overhead ? (r.overhead.available ? r.overhead.meanMsWith : 'n/a') : undefined))],
    ['overhead: ratio', ...cell((r) => (r.overhead ? (r.overhead.available ? `x${r.overhead.ratio}` : 'n/a') : undefined))],
    [`overhead: ${settings.overheadConcurrency} at once, tx/s alone → with enqueue`, ...cell((r) => (r.overhead ? (r.overhead.available ? `${r.overhead.concurrent.txPerSecWithout} → ${r.overhead.concurrent.txPerSecWith}` : 'n/a') : undefined))],
    [`  overhead: ${settings.overheadConcurrency} at once, ratio`, ...cell((r) => (r.overhead ? (r.overhead.available ? `x${r.overhead.concurrent.ratio}` : 'n/a') : undefined))],
    ['overhead: enqueue − bare INSERT, same process, paired (ms)', ...cell((r) => (r.overhead?.available && r.overhead.besideBareInsert ? signed(r.overhead.besideBareInsert.addedMs) : undefined))],
    ['  overhead: the same, block medians (ms)', ...cell((r) => (r.overhead?.available && r.overhead.besideBareInsert ? signed(r.overhead.besideBareInsert.typicalAddedMs) : undefined))],
    [`  overhead: the same, ${settings.overheadConcurrency} at once (ms/tx)`, ...cell((r) => (r.overhead?.available && r.overhead.besideBareInsert ? signed(r.overhead.besideBareInsert.concurrentAddedMs) : undefined))],
    ['  overhead: another instance listening: one at a time / block medians (ms)', ...cell((r) => (r.overhead?.available && r.overhead.besideBareListened ? `${signed(r.overhead.besideBareListened.addedMs)} / ${signed(r.overhead.besideBareListened.typicalAddedMs)}` : undefined))],
    [`  overhead: another instance listening, ${settings.overheadConcurrency} at once (ms/tx)`, ...cell((r) => (r.overhead?.available && r.overhead.besideBareListened ? signed(r.overhead.besideBareListened.concurrentAddedMs) : undefined))],
    [`latency p50 (ms), ${settings.latencyRate}/s`, ...cell((r) => lat(r, 'default')?.p50)],
    ['latency p95 (ms)', ...cell((r) => lat(r, 'default')?.p95)],
    ['latency p99 (ms)', ...cell((r) => lat(r, 'default')?.p99)],
    [`latency p50/p95/p99, pollIntervalMs ${meta.djFastPollMs}`, ...cell((r) => {
      const l = lat(r, 'fastPoll');
      return l ? `${l.p50}/${l.p95}/${l.p99}` : undefined;
    })],
    [`memory: peak RSS draining ${settings.memoryJobs} (MB)`, ...cell((r) => r.memory?.peakRssMb)],
    ['  memory: RSS at ready (MB)', ...cell((r) => r.memory?.baseRssMb)],
    ['  memory: peak V8 heap used (MB)', ...cell((r) => r.memory?.peakHeapMb)],
    ['  memory: drain (jobs/s)', ...cell((r) => r.memory?.jobsPerSec)],
    [`scale ${settings.scaleJobs} jobs, processes:jobs/s (median run)`, ...cell(scaleCell)],
    ['  scale: jobs/s of each run', ...cell(scaleRuns)],
  ];
  out('\n=== Results ' + (settings.quick ? '(BENCH_QUICK=1: smoke sizes, not for quoting) ' : '') + '===');
  table(rows).forEach((l) => out(l));

  out('\nConfiguration:');
  for (const s of systems) out(`  ${s}: ${results[s]!.config}`);
  out(`  overhead: Prisma interactive transaction (prisma.$transaction) with one INSERT into bench_order; enqueue in the same transaction:`);
  for (const s of systems) {
    const o = results[s]!.overhead;
    if (o) out(`    ${s}: ${o.available ? o.how : 'n/a'}`);
  }

  const ratios: Record<string, string> = {};
  const dj = results['doctor-job'];
  const rate = (s: SystemName) => results[s]?.drain?.jobsPerSec;
  if (dj?.drain) {
    for (const peer of ['graphile-worker', 'pg-boss', 'raw'] as SystemName[]) {
      if (rate(peer)) ratios[`drain doctor-job / ${peer}`] = `x${round(dj.drain.jobsPerSec / rate(peer)!, 3)} (${dj.drain.jobsPerSec} vs ${rate(peer)} jobs/s)`;
    }
  }
  const warmRate = (s: SystemName) => results[s]?.drainWarm?.jobsPerSec;
  if (dj?.drainWarm) {
    for (const peer of ['graphile-worker', 'pg-boss', 'raw'] as SystemName[]) {
      if (warmRate(peer)) ratios[`drain, warm process, doctor-job / ${peer}`] = `x${round(dj.drainWarm.jobsPerSec / warmRate(peer)!, 3)} (${dj.drainWarm.jobsPerSec} vs ${warmRate(peer)} jobs/s)`;
    }
  }
  if (dj?.overhead?.available) {
    ratios['enqueue overhead doctor-job (tx+enqueue / tx)'] = `x${dj.overhead.ratio} (${dj.overhead.meanMsWithout} → ${dj.overhead.meanMsWith} ms)`;
    const c = dj.overhead.concurrent;
    ratios[`enqueue overhead doctor-job, ${c.concurrency} at once (tx/s alone / with enqueue)`] = `x${c.ratio} (${c.txPerSecWithout} → ${c.txPerSecWith} tx/s)`;
    const bare = dj.overhead.besideBareInsert;
    if (bare) {
      ratios['enqueue doctor-job − bare INSERT, one at a time (target <= 0.05 ms)'] = `${signed(bare.addedMs)} ms (block medians ${signed(bare.typicalAddedMs)}; ${bare.meanMsBare} → ${bare.meanMsEnqueue} ms, ${bare.blocks} blocks of ${bare.block} each)`;
      ratios[`enqueue doctor-job − bare INSERT, ${bare.concurrency} at once (target <= 0.05 ms/tx)`] = `${signed(bare.concurrentAddedMs)} ms/tx (${bare.txPerSecBare} → ${bare.txPerSecEnqueue} tx/s)`;
    }
    const heard = dj.overhead.besideBareListened;
    if (heard) {
      ratios['enqueue doctor-job − bare INSERT, another instance listening, one at a time (ms)'] = `${signed(heard.addedMs)} ms (block medians ${signed(heard.typicalAddedMs)})`;
      ratios[`enqueue doctor-job − bare INSERT, another instance listening, ${heard.concurrency} at once (ms/tx)`] = `${signed(heard.concurrentAddedMs)} ms/tx`;
    }
  }
  if (dj?.standalone) {
    for (const peer of ['graphile-worker', 'pg-boss'] as SystemName[]) {
      const other = results[peer]?.standalone;
      if (other) {
        ratios[`standalone enqueue doctor-job / ${peer} (jobs/s)`] = `x${round(dj.standalone.jobsPerSec / other.jobsPerSec, 3)} (${dj.standalone.jobsPerSec} vs ${other.jobsPerSec})`;
        ratios[`standalone call → start p50 doctor-job vs ${peer} (ms)`] = `${dj.standalone.latency.p50} vs ${other.latency.p50}`;
      }
    }
  }
  for (const l of dj?.latency ?? []) ratios[`latency doctor-job ${l.variant === 'fastPoll' ? `pollIntervalMs ${meta.djFastPollMs}` : `pollIntervalMs ${meta.djPollMs}`} p50/p99 ms`] = `${l.p50} / ${l.p99}`;
  for (const s of systems) {
    const m = results[s]?.memory;
    if (m) ratios[`peak RSS ${s} draining ${settings.memoryJobs}`] = `${m.peakRssMb} MB (${m.baseRssMb} MB at ready, V8 heap peak ${m.peakHeapMb} MB)`;
  }
  for (const s of systems) {
    const sc = results[s]?.scale;
    if (sc?.length) {
      const base = sc[0].jobsPerSec;
      ratios[`scale ${s} ${sc.map((x) => x.workers).join('→')}`] = sc.map((x) => `${x.jobsPerSec} (x${round(x.jobsPerSec / base, 2)})`).join(' → ');
    }
  }
  if (dj?.drain?.dbCost) {
    for (const peer of ['raw', 'graphile-worker', 'pg-boss'] as SystemName[]) {
      const p = results[peer]?.drain?.dbCost;
      if (!p) continue;
      const d = dj.drain.dbCost;
      ratios[`drain DB cost doctor-job / ${peer}: WAL bytes, buffers per job`] =
        `x${round(d.walBytesPerJob / p.walBytesPerJob, 3)} (${d.walBytesPerJob} vs ${p.walBytesPerJob}), x${round(d.buffersPerJob / p.buffersPerJob, 3)} (${d.buffersPerJob} vs ${p.buffersPerJob})`;
    }
  }
  const withCost = systems.filter((s) => results[s]?.drain?.dbCost);
  if (withCost.length) {
    out(`\nDatabase cost ${meta.dbCost}; per drained job, by statement (the six that touched the most buffers):`);
    for (const s of withCost) {
      out(`  ${s}:`);
      for (const t of results[s]!.drain!.dbCost!.top) {
        out(`    ${String(t.buffersPerJob).padStart(7)} buffers  ${String(t.walBytesPerJob).padStart(7)} WAL B  ${String(t.calls).padStart(6)} calls  ${String(t.msPerCall).padStart(8)} ms/call  ${t.query}`);
      }
    }
  }
  out('\nRatios:');
  for (const [k, v] of Object.entries(ratios)) out(`  ${k}: ${v}`);
  const failures = systems.filter((s) => results[s]!.error);
  for (const s of failures) out(`\n! ${s} failed:\n${results[s]!.error}`);
  return ratios;
}

async function cleanup(): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const name of databases) await dropDatabase(name).catch((e) => process.stderr.write(`could not drop ${name}: ${e.message}\n`));
  databases.clear();
  await cost.admin?.end().catch(() => {});
  cost.admin = undefined;
  cost.cluster?.stop();
}

/**
 * Where the databases live: a private cluster with pg_stat_statements (the default when the bench
 * runs as root next to the server's binaries and BENCH_DATABASE_URL is not set; BENCH_PRIVATE_CLUSTER=0
 * turns it off), or the server at BENCH_DATABASE_URL, whose cost figures need pg_stat_statements loaded there.
 */
async function setUpDatabaseCost(): Promise<void> {
  const wanted = process.env.BENCH_PRIVATE_CLUSTER ?? (process.env.BENCH_DATABASE_URL ? '0' : '1');
  if (wanted !== '0' && canStartPrivateCluster()) {
    cost.cluster = await startPrivateCluster();
    settings.adminUrl = cost.cluster.url;
  }
  const admin = new Client({ connectionString: settings.adminUrl });
  await admin.connect();
  const preloaded = String((await admin.query('SHOW shared_preload_libraries')).rows[0].shared_preload_libraries);
  if (!preloaded.includes('pg_stat_statements')) {
    await admin.end();
    cost.note = `off: pg_stat_statements is not loaded on ${settings.adminUrl} (a private cluster needs root and the server binaries)`;
    return;
  }
  await prepareCluster(admin);
  cost.admin = admin;
  cost.note = cost.cluster
    ? `measured on a private cluster (port ${cost.cluster.port}; ${cost.cluster.settings.join(', ')}); workers as role ${WORKER_ROLE}`
    : `measured on ${settings.adminUrl} (cluster-wide WAL includes other traffic); workers as role ${WORKER_ROLE}`;
}

async function main(): Promise<number> {
  await setUpDatabaseCost();
  const pgVersion = await withClient(settings.adminUrl, async (c) => (await c.query('SHOW server_version')).rows[0].server_version as string);
  const { doctorJobConfig } = await import('./common');
  const meta = {
    date: new Date().toISOString(),
    quick: settings.quick,
    node: process.version,
    postgres: pgVersion,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    loadAverageAtStart: loadavg().map((x) => round(x, 2)),
    versions: {
      'pg-boss': require('pg-boss/package.json').version,
      'graphile-worker': require('graphile-worker/package.json').version,
      pg: require('pg/package.json').version,
      prisma: require('@prisma/client/package.json').version,
    },
    settings: { ...settings, adminUrl: undefined },
    djPollMs: doctorJobConfig.default.pollIntervalMs,
    djFastPollMs: doctorJobConfig.fastPoll.pollIntervalMs,
    dbCost: cost.note,
  };
  out(`doctor-job benchmark ${settings.quick ? '(quick) ' : ''}· node ${meta.node} · PostgreSQL ${pgVersion} · ${meta.cpus}`);
  out(`workloads: ${settings.workloads.join(', ')} · systems: ${settings.systems.join(', ')} · load average ${meta.loadAverageAtStart.join(' ')}`);
  out(`database cost per job: ${cost.note}`);
  const started = performance.now();
  const results: Partial<Record<SystemName, SystemResult>> = {};
  for (const system of settings.systems) results[system] = await benchSystem(system);
  const ratios = report(results, meta);
  const elapsed = round((performance.now() - started) / 1000, 1);
  const loadAverageAtEnd = loadavg().map((x) => round(x, 2));
  out(`\nTotal time: ${elapsed} s · load average at the end ${loadAverageAtEnd.join(' ')}`);
  const json = { meta: { ...meta, elapsedSeconds: elapsed, loadAverageAtEnd }, results, ratios };
  out('\nJSON:');
  out(JSON.stringify(json, null, 2));
  if (process.env.BENCH_SAVE !== '0') {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const base = settings.quick ? 'quick' : 'latest';
    writeFileSync(join(dir, `${base}.txt`), output.join('\n') + '\n');
    writeFileSync(join(dir, `${base}.json`), JSON.stringify(json, null, 2) + '\n');
    process.stdout.write(`\nSaved bench/results/${base}.txt and bench/results/${base}.json\n`);
  }
  return Object.values(results).some((r) => r?.error) ? 1 : 0;
}

runScript(main, cleanup, 'worker processes and databases');
