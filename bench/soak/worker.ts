/**
 * A soak worker process, forked by bench/soak.ts. Environment: SOAK_DB_URL, SOAK_WORKER (its name).
 * Boots the soak app (autoStart false), says `ready`, starts the runner on `go`. Its handler records
 * every run in "soak_run" (grouped into one INSERT every few ms; the handler returns once its row is
 * committed), throws on the first attempt of a failing-once job, and notes commit -> start latency
 * from the payload's enqueue time (delayed jobs: from the time they were due). Every second it sends
 * the orchestrator process.memoryUsage() and what ran since the last report.
 */
import 'reflect-metadata';
import { Pool } from 'pg';
import { doctorJobConfig, wallNow } from '../common';
import { bootSoakApp, PlannedFailure, setSink, type SoakCommand, type SoakPayload, type SoakWorkerMessage } from './app';

const url = process.env.SOAK_DB_URL!;
const worker = process.env.SOAK_WORKER ?? `w${process.pid}`;
const send = (message: SoakWorkerMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

const pool = new Pool({ connectionString: url, max: 2 });
type Row = [string, number, number, boolean];
let pending: Row[] = [];
let pendingWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
let flushTimer: NodeJS.Timeout | null = null;

async function flush(): Promise<void> {
  flushTimer = null;
  const rows = pending;
  const waiters = pendingWaiters;
  pending = [];
  pendingWaiters = [];
  if (rows.length === 0) return;
  try {
    await pool.query(
      `INSERT INTO "soak_run" ("job_id", "n", "worker", "attempt", "ok")
       SELECT j, n, $5, a, o FROM unnest($1::bigint[], $2::int[], $3::int[], $4::boolean[]) AS u(j, n, a, o)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), worker],
    );
    waiters.forEach((w) => w.resolve());
  } catch (error) {
    waiters.forEach((w) => w.reject(error));
  }
}

function record(row: Row): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    pending.push(row);
    pendingWaiters.push({ resolve, reject });
    if (!flushTimer) flushTimer = setTimeout(() => void flush(), 10);
  });
}

let ok = 0;
let failed = 0;
let latencies: [number, number][] = [];

setSink(async (payload: SoakPayload, job) => {
  const now = wallNow();
  if (job.attempt === 1) latencies.push([now, now - payload.t - payload.d]);
  const fails = payload.kind === 'f' && job.attempt === 1;
  await record([job.id, payload.n, job.attempt, !fails]);
  if (fails) {
    failed++;
    throw new PlannedFailure(`planned failure of job ${payload.n} (first attempt)`);
  }
  ok++;
});

function stats(): SoakWorkerMessage {
  const m = process.memoryUsage();
  const message: SoakWorkerMessage = { type: 'stats', rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, ok, failed, latencies };
  latencies = [];
  return message;
}

async function main(): Promise<void> {
  // The bench's throughput configuration (batchSize, concurrency, pollIntervalMs; SOAK_DJ_* overrides).
  const config = {
    pollIntervalMs: Number(process.env.SOAK_DJ_POLL_MS || doctorJobConfig.default.pollIntervalMs),
    batchSize: Number(process.env.SOAK_DJ_BATCH || doctorJobConfig.default.batchSize),
    concurrency: Number(process.env.SOAK_DJ_CONCURRENCY || doctorJobConfig.default.concurrency),
  };
  const dj = await bootSoakApp(url, { ...config, autoStart: false }, false);
  let resolveGo!: () => void;
  let resolveStop!: () => void;
  const go = new Promise<void>((r) => (resolveGo = r));
  const stop = new Promise<void>((r) => (resolveStop = r));
  process.on('message', (m: SoakCommand) => (m.cmd === 'go' ? resolveGo() : resolveStop()));
  await send({ type: 'ready', rss: process.memoryUsage().rss });
  await go;
  await dj.runner.start();
  const reporter = setInterval(() => void send(stats()), 1000);
  await stop;
  clearInterval(reporter);
  await dj.close();
  await flush();
  await send(stats());
  await pool.end();
  await send({ type: 'stopped' });
  process.disconnect();
}

main().catch(async (error) => {
  process.stderr.write(`[soak worker ${worker}] ${error?.stack ?? error}\n`);
  try {
    await send({ type: 'error', message: String(error?.message ?? error) });
  } finally {
    process.exit(1);
  }
});
