/**
 * The soak (issue 16, items 1 and 2): `npm run soak`. A script that prints figures, not a test.
 *
 * One fresh database on the local PostgreSQL server (as `npm run bench`), Doctor Job migrated by a
 * producer app in this process; two forked worker processes (bench/soak/worker.ts, compiled) drain
 * while the producer enqueues SOAK_RATE jobs/s for SOAK_SECONDS. Every SOAK_SAMPLE_SECONDS it
 * records throughput, commit -> start latency, the job table's and each index's size, live and dead
 * tuples, the last autovacuum and each worker's RSS and heap. From 40 % to 70 % of the length a
 * transaction on a connection of its own holds the xmin horizon (`SELECT txid_current()`). At the
 * end: lost jobs and duplicates from the runs table, the targets of item 2, a table (stdout and
 * SOAK.md) and an SVG chart (bench/results/soak[-quick].svg).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { randomBytes } from 'node:crypto';
import { doctorJobConfig, percentile, ROOT, runScript, settings as benchSettings, sleep, wallNow, withClient } from './common';
import { SoakCluster, type AutovacuumLog } from './soak/cluster';
import { bootSoakApp, RUNS_TABLE_SQL, SOAK_JOB, type SoakApp, type SoakCommand, type SoakPayload, type SoakWorkerMessage } from './soak/app';
import { soakChart } from './soak/chart';

// ---------------------------------------------------------------------------------------------
// Settings

const QUICK = process.env.SOAK_QUICK === '1';
function numEnv(name: string, full: number, quick: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}
const S = {
  seconds: numEnv('SOAK_SECONDS', 600, 60),
  rate: numEnv('SOAK_RATE', 1000, 1000),
  sampleSeconds: numEnv('SOAK_SAMPLE_SECONDS', 10, 5),
  /** Jobs per enqueue transaction (enqueueMany); each 100 ms tick sends its share in transactions of this size, concurrently. */
  txSize: numEnv('SOAK_TX_SIZE', 10, 10),
  workers: 2,
  save: process.env.SOAK_SAVE !== '0',
  /** own (default): a PostgreSQL cluster of the soak's own with stock settings (bench/soak/cluster.ts); shared: BENCH_DATABASE_URL's server. */
  server: (process.env.SOAK_SERVER || 'own') as 'own' | 'shared',
  /** SQL run after the migrations, before the workers start (e.g. `ALTER TABLE doctor_job RESET (...)` for a before/after run). */
  setupSql: process.env.SOAK_SETUP_SQL || '',
  /** Server settings for the soak's own cluster, on top of PostgreSQL's stock ones: `-c name=value ...`. */
  pgOptions: process.env.SOAK_PG_OPTS || '',
  /** Seconds after the horizon holder ends at which the operator's remedy for index bloat runs: REINDEX TABLE CONCURRENTLY doctor_job (unset: never). */
  reindexAfter: process.env.SOAK_REINDEX_AFTER ? numEnv('SOAK_REINDEX_AFTER', 0, 0) : null,
};
if (S.server !== 'own' && S.server !== 'shared') throw new Error(`SOAK_SERVER must be "own" or "shared", got "${S.server}"`);
const L = S.seconds * 1000;
const WARMUP = Math.min(60_000, 0.2 * L);
const HOLD_START = 0.4 * L;
const HOLD_END = 0.7 * L;
const RECOVERY_LIMIT = 120_000;

// ---------------------------------------------------------------------------------------------
// Workers

interface WorkerHandle {
  name: string;
  child: ChildProcess;
  ready: Promise<void>;
  stopped: Promise<void>;
  rss: number;
  heapUsed: number;
  ok: number;
  failed: number;
  send(m: SoakCommand): void;
}

const children = new Set<ChildProcess>();
let dbName: string | null = null;
let cluster: SoakCluster | null = null;
let adminUrl = benchSettings.adminUrl;
let t0 = 0;
/** Per second since t0: jobs whose handler succeeded (by report arrival), latencies (by handler start). */
const okPerSecond: number[] = [];
const latPerSecond: number[][] = [];
const producedPerSecond: number[] = [];
const bump = (arr: number[], s: number, by: number) => {
  while (arr.length <= s) arr.push(0);
  arr[s] += by;
};

function spawnWorker(name: string, url: string): WorkerHandle {
  const compiled = __filename.endsWith('.js');
  const child = fork(join(__dirname, 'soak', compiled ? 'worker.js' : 'worker.ts'), [], {
    cwd: ROOT,
    execArgv: compiled ? [] : ['-r', '@swc-node/register'],
    env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.sample.json', SOAK_DB_URL: url, SOAK_WORKER: name },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  let readyResolve!: () => void;
  let stoppedResolve!: () => void;
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const handle: WorkerHandle = {
    name,
    child,
    ready: Promise.race([new Promise<void>((r) => (readyResolve = r)), failed]),
    stopped: Promise.race([new Promise<void>((r) => (stoppedResolve = r)), failed]),
    rss: 0,
    heapUsed: 0,
    ok: 0,
    failed: 0,
    send: (m) => child.send(m),
  };
  child.on('exit', (code) => {
    children.delete(child);
    fail(new Error(`worker ${name} exited (code ${code})`));
  });
  child.on('message', (m: SoakWorkerMessage) => {
    if (m.type === 'ready') {
      handle.rss = m.rss;
      readyResolve();
    } else if (m.type === 'stats') {
      const now = wallNow();
      if (t0 > 0) bump(okPerSecond, Math.max(0, Math.floor((now - t0) / 1000)), m.ok - handle.ok);
      handle.ok = m.ok;
      handle.failed = m.failed;
      handle.rss = m.rss;
      handle.heapUsed = m.heapUsed;
      for (const [at, ms] of m.latencies) {
        const s = Math.max(0, Math.floor((at - t0) / 1000));
        while (latPerSecond.length <= s) latPerSecond.push([]);
        latPerSecond[s].push(ms);
      }
    } else if (m.type === 'stopped') stoppedResolve();
    else if (m.type === 'error') fail(new Error(`worker ${name}: ${m.message}`));
  });
  return handle;
}

// ---------------------------------------------------------------------------------------------
// Producer: a steady rate, a mix of immediate, delayed, failing-once and keyed jobs.

function jobOf(n: number, t: number): { type: typeof SOAK_JOB; payload: SoakPayload; delayMs?: number; orderingKey?: string } {
  const r = n % 100;
  if (r < 70) return { type: SOAK_JOB, payload: { n, t, d: 0, kind: 'i' } };
  if (r < 80) {
    const d = 1_000 + ((n * 7919) % 9_000); // 1-10 s
    return { type: SOAK_JOB, payload: { n, t, d, kind: 'd' }, delayMs: d };
  }
  if (r < 85) return { type: SOAK_JOB, payload: { n, t, d: 0, kind: 'f' } };
  return { type: SOAK_JOB, payload: { n, t, d: 0, kind: 'k' }, orderingKey: `key-${n % 64}` };
}
const MIX = '70 % immediate, 10 % delayed 1-10 s, 5 % failing once then succeeding (retry after ~200 ms), 15 % keyed (orderingKey, 64 keys)';

/** Jobs whose enqueue transaction failed (numbered but never committed): they must not run, and are not counted as lost. */
const failedNumbers: number[] = [];

async function produce(app: SoakApp, until: () => boolean): Promise<{ produced: number; errors: number }> {
  let next = 0;
  let committed = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  while (!until()) {
    const due = Math.floor(((wallNow() - t0) * S.rate) / 1000);
    while (next < due && inFlight.size < 32) {
      const from = next;
      const count = Math.min(S.txSize, due - next);
      next += count;
      const t = wallNow();
      const jobs = Array.from({ length: count }, (_, k) => jobOf(from + k, t));
      const p = app.outbox
        .transaction((tx) => app.outbox.enqueueMany(tx, jobs as any))
        .then(() => {
          committed += count;
          bump(producedPerSecond, Math.floor((wallNow() - t0) / 1000), count);
        })
        .catch((e) => {
          errors++;
          for (let k = 0; k < count; k++) failedNumbers.push(from + k);
          process.stderr.write(`enqueue of ${from}..${from + count - 1} failed: ${e?.message ?? e}\n`);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await sleep(inFlight.size >= 32 ? 5 : 100 - ((wallNow() - t0) % 100));
  }
  await Promise.all(inFlight);
  return { produced: committed, errors };
}

// ---------------------------------------------------------------------------------------------
// Samples

interface Sample {
  at: number; // ms since t0
  phase: string;
  producedPerS: number;
  donePerS: number;
  queue: number;
  p50: number;
  p99: number;
  latN: number;
  tableBytes: number;
  indexes: Record<string, number>;
  indexBytes: number;
  live: number;
  dead: number;
  autovacuums: number;
  lastAutovacuum: number | null; // ms since t0
  workers: { rss: number; heap: number }[];
}

const phaseAt = (ms: number) => (ms <= WARMUP ? 'warm-up' : ms <= HOLD_START ? 'before' : ms <= HOLD_END ? 'HOLD' : 'after');

function sumRange(arr: number[], fromS: number, toS: number): number {
  let sum = 0;
  for (let s = fromS; s < toS; s++) sum += arr[s] ?? 0;
  return sum;
}
function latRange(fromS: number, toS: number): number[] {
  const all: number[] = [];
  for (let s = fromS; s < toS; s++) for (const v of latPerSecond[s] ?? []) all.push(v);
  return all.sort((a, b) => a - b);
}

async function sample(obs: Pool, at: number, prevAt: number, workers: WorkerHandle[]): Promise<Sample> {
  const [table] = (
    await obs.query(`SELECT pg_relation_size('doctor_job') AS t, pg_indexes_size('doctor_job') AS i, n_live_tup AS live, n_dead_tup AS dead,
      autovacuum_count AS av, extract(epoch FROM last_autovacuum) * 1000 AS last_av, (SELECT count(*) FROM "doctor_job") AS queue
      FROM pg_stat_user_tables WHERE relname = 'doctor_job'`)
  ).rows;
  const idx = (
    await obs.query(`SELECT indexrelname AS name, pg_relation_size(indexrelid) AS bytes FROM pg_stat_user_indexes WHERE relname = 'doctor_job' ORDER BY indexrelname`)
  ).rows;
  const fromS = Math.floor(prevAt / 1000);
  const toS = Math.floor(at / 1000);
  const secs = Math.max(1, toS - fromS);
  const lat = latRange(fromS, toS);
  return {
    at,
    phase: phaseAt(at),
    producedPerS: sumRange(producedPerSecond, fromS, toS) / secs,
    donePerS: sumRange(okPerSecond, fromS, toS) / secs,
    queue: Number(table.queue),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    latN: lat.length,
    tableBytes: Number(table.t),
    indexes: Object.fromEntries(idx.map((r) => [String(r.name).replace(/^doctor_job_/, ''), Number(r.bytes)])),
    indexBytes: Number(table.i),
    live: Number(table.live),
    dead: Number(table.dead),
    autovacuums: Number(table.av),
    lastAutovacuum: table.last_av === null ? null : Number(table.last_av) - t0,
    workers: workers.map((w) => ({ rss: w.rss, heap: w.heapUsed })),
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

const MB = (b: number) => (b / 1048576).toFixed(2);
const ms1 = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '-');
const sec = (ms: number) => (ms / 1000).toFixed(0);

function table(samples: Sample[]): string[] {
  const idxNames = Object.keys(samples[0]?.indexes ?? {});
  const head = [
    't (s)', 'phase', 'enq/s', 'done/s', 'queue', 'p50 ms', 'p99 ms', 'table MB',
    ...idxNames.map((n) => `${n} MB`), 'tbl+idx MB', 'live', 'dead', 'autovac (n, last at s)',
    ...samples[0].workers.flatMap((_, i) => [`w${i + 1} RSS MB`, `w${i + 1} heap MB`]),
  ];
  const rows = samples.map((s) => [
    sec(s.at), s.phase, s.producedPerS.toFixed(0), s.donePerS.toFixed(0), String(s.queue), ms1(s.p50), ms1(s.p99), MB(s.tableBytes),
    ...idxNames.map((n) => MB(s.indexes[n] ?? 0)), MB(s.tableBytes + s.indexBytes), String(s.live), String(s.dead),
    `${s.autovacuums}, ${s.lastAutovacuum === null ? '-' : sec(s.lastAutovacuum)}`,
    ...s.workers.flatMap((w) => [MB(w.rss), MB(w.heap)]),
  ]);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function autovacuumTable(runs: AutovacuumLog[]): string[] {
  if (!cluster) return ['(autovacuum runs are read from the server log of the soak\'s own cluster only; SOAK_SERVER=shared has none)', ''];
  return [
    `Autovacuums of doctor_job, from the server log (log_autovacuum_min_duration = 0): ${runs.length} in the run.`,
    '',
    '| ended at (s) | phase | took (s) | dead rows removed | rows left | dead but not yet removable | heap pages truncated | heap pages left |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map((r) => `| ${sec(r.at)} | ${r.at > L ? 'drain' : phaseAt(r.at)} | ${r.elapsedS ?? '-'} | ${r.removed ?? '-'} | ${r.remain ?? '-'} | ${r.notRemovable ?? '-'} | ${r.pagesRemoved ?? '-'} | ${r.pagesRemain ?? '-'} |`),
    '',
  ];
}

interface Target {
  target: string;
  figure: string;
  met: boolean | null; // null: not assessable in this run
}

function evaluate(samples: Sample[], end: { rss: number[]; warmRss: number[]; lost: number; remaining: number; phantoms: number; duplicates: number; repeatedAttempts: number; reindexFrom: number }): Target[] {
  const size = (s: Sample) => s.tableBytes + s.indexBytes;
  const base = samples.find((s) => s.at >= WARMUP) ?? samples[0];
  const before = samples.filter((s) => s.at > WARMUP && s.at <= HOLD_START);
  const hold = samples.filter((s) => s.at > HOLD_START && s.at <= HOLD_END);
  const after = samples.filter((s) => s.at > HOLD_END);
  const targets: Target[] = [];

  const preMax = Math.max(...[base, ...before].map(size));
  targets.push({
    target: `table + index size within 2x of its size at the first sample after warm-up (${sec(WARMUP)} s) while nothing holds the horizon (until ${sec(HOLD_START)} s)`,
    figure: `${MB(size(base))} MB at ${sec(base.at)} s, at most ${MB(preMax)} MB before the hold (${(preMax / size(base)).toFixed(2)}x)`,
    met: preMax <= 2 * size(base),
  });

  const preRate = sumRange(okPerSecond, Math.floor(WARMUP / 1000), Math.floor(HOLD_START / 1000)) / ((HOLD_START - WARMUP) / 1000);
  const holdRate = sumRange(okPerSecond, Math.floor(HOLD_START / 1000), Math.floor(HOLD_END / 1000)) / ((HOLD_END - HOLD_START) / 1000);
  const holdMin = Math.min(...hold.map((s) => s.donePerS));
  targets.push({
    target: 'throughput during the long transaction >= 50 % of before',
    figure: `${holdRate.toFixed(0)} jobs/s during vs ${preRate.toFixed(0)} before (${((100 * holdRate) / preRate).toFixed(0)} %; worst ${S.sampleSeconds} s window ${holdMin.toFixed(0)}, ${((100 * holdMin) / preRate).toFixed(0)} %)`,
    met: holdMin >= 0.5 * preRate,
  });

  const preLat = latRange(Math.floor(WARMUP / 1000), Math.floor(HOLD_START / 1000));
  const holdLat = latRange(Math.floor(HOLD_START / 1000), Math.floor(HOLD_END / 1000));
  const preP99 = percentile(preLat, 99);
  const holdP99 = percentile(holdLat, 99);
  targets.push({
    target: 'p99 commit -> start latency during the long transaction <= 10x before',
    figure: `${ms1(holdP99)} ms during vs ${ms1(preP99)} ms before (${(holdP99 / preP99).toFixed(1)}x; p50 ${ms1(percentile(holdLat, 50))} vs ${ms1(percentile(preLat, 50))} ms)`,
    met: holdP99 <= 10 * preP99,
  });

  // The pre-transaction band: the before-windows' range (throughput >= 90 % of the lowest, p99 <= 1.1x the highest, size <= 1.1x the largest).
  const band = {
    rate: 0.9 * Math.min(...before.map((s) => s.donePerS)),
    p99: 1.1 * Math.max(...before.map((s) => s.p99)),
    size: 1.1 * preMax,
  };
  const back = (s: Sample) => ({ rate: s.donePerS >= band.rate, p99: s.p99 <= band.p99, size: size(s) <= band.size });
  const firstBack = (key: 'rate' | 'p99' | 'size') => after.find((s) => back(s)[key]);
  const postLen = L - HOLD_END;
  const parts = (['rate', 'p99', 'size'] as const).map((key) => {
    const s = firstBack(key);
    return { key, s, text: `${key === 'rate' ? 'throughput' : key === 'p99' ? 'p99' : 'size'} ${s ? `back at +${sec(s.at - HOLD_END)} s` : `not back within the run's ${sec(postLen)} s after it`}` };
  });
  // "By itself": a size that came back only once the operator's REINDEX ran does not count.
  const sizeBack = parts[2].s;
  const byReindex = end.reindexFrom > 0 && sizeBack !== undefined && sizeBack.at >= end.reindexFrom;
  if (byReindex) parts[2].text += ` (after the REINDEX TABLE CONCURRENTLY begun at +${sec(end.reindexFrom - HOLD_END)} s: an operator's step, not by itself)`;
  const preTable = 1.1 * Math.max(...[base, ...before].map((s) => s.tableBytes));
  const tableBack = after.find((s) => s.tableBytes <= preTable);
  parts.push({ key: 'size', s: tableBack, text: `the table alone (heap, <= ${MB(preTable)} MB) ${tableBack ? `back at +${sec(tableBack.at - HOLD_END)} s` : 'not back'}` });
  const allBack = !byReindex && parts.every((p) => p.s && p.s.at - HOLD_END <= RECOVERY_LIMIT);
  const last = samples[samples.length - 1];
  targets.push({
    target: `within 2 min after it ends, size, throughput and latency back in their pre-transaction band (throughput >= ${band.rate.toFixed(0)}/s, p99 <= ${ms1(band.p99)} ms, size <= ${MB(band.size)} MB)`,
    figure: `${parts.map((p) => p.text).join('; ')}; at the end ${MB(size(last))} MB (table ${MB(last.tableBytes)}, indexes ${MB(last.indexBytes)}; before the hold at most table ${MB(Math.max(...[base, ...before].map((s) => s.tableBytes)))}, indexes ${MB(Math.max(...[base, ...before].map((s) => s.indexBytes)))}), ${last.dead} dead tuples`,
    met: allBack ? true : postLen < RECOVERY_LIMIT ? null : false,
  });

  const ratios = end.rss.map((r, i) => r / end.warmRss[i]);
  targets.push({
    target: 'each worker\'s RSS at the end within 20 % of its RSS after warm-up',
    figure: end.rss.map((r, i) => `w${i + 1} ${MB(end.warmRss[i])} -> ${MB(r)} MB (${((ratios[i] - 1) * 100).toFixed(0)} %)`).join(', '),
    met: ratios.every((r) => r <= 1.2 && r >= 0.8),
  });
  targets.push({
    target: '0 lost jobs and 0 duplicates (no crash injected)',
    figure: `${end.lost} lost (committed, never succeeded, not in the queue)${end.remaining > 0 ? `, ${end.remaining} still in the queue when the drain stopped after 2 min (not assessable for those)` : ''}, ${end.duplicates} duplicates (jobs that succeeded more than once), ${end.repeatedAttempts} repeated attempts, ${end.phantoms} run of ${failedNumbers.length} jobs whose enqueue transaction failed`,
    met: end.lost === 0 && end.phantoms === 0 && end.duplicates === 0 && end.repeatedAttempts === 0 ? (end.remaining > 0 ? null : true) : false,
  });
  return targets;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = new Date();
  const load0 = loadavg();
  if (S.server === 'own') {
    cluster = new SoakCluster(S.pgOptions);
    cluster.start();
    adminUrl = cluster.url;
  }
  const db = await createDatabase();
  dbName = db.name;
  process.stdout.write(`soak: ${S.seconds} s at ${S.rate} jobs/s, ${S.workers} worker processes, database ${db.name} on ${S.server === 'own' ? `the soak's own cluster (port ${cluster!.port})` : adminUrl}\n`);
  const producer = await bootSoakApp(db.url, { ...doctorJobConfig.default, autoStart: false }, true);
  const obs = new Pool({ connectionString: db.url, max: 2 });
  // Cleanup's DROP DATABASE ... WITH (FORCE) ends these connections: that is not an error of the run.
  obs.on('error', (e) => process.stderr.write(`observer connection: ${e.message}\n`));
  await obs.query(RUNS_TABLE_SQL);
  if (S.setupSql) await obs.query(S.setupSql);
  const server = await serverSettings(obs);
  process.stdout.write(`  server: ${server}\n`);
  const workers = Array.from({ length: S.workers }, (_, i) => spawnWorker(`w${i + 1}`, db.url));
  await Promise.all(workers.map((w) => w.ready));

  t0 = wallNow();
  workers.forEach((w) => w.send({ cmd: 'go' }));
  let stopProducing = false;
  const production = produce(producer, () => stopProducing || wallNow() - t0 >= L);

  const samples: Sample[] = [];
  let warmRss: number[] = [];
  let holder: Client | null = null;
  let holderXid = '';
  const reindex: { from: number; to: number; error?: string; done?: Promise<void> } = { from: 0, to: 0 };
  const held = { from: 0, to: 0 };
  let prevAt = 0;
  let nextSample = S.sampleSeconds * 1000;
  while (wallNow() - t0 < L) {
    const now = wallNow() - t0;
    if (!holder && held.from === 0 && now >= HOLD_START) {
      holder = new Client({ connectionString: db.url });
      holder.on('error', (e) => process.stderr.write(`horizon holder: ${e.message}\n`));
      await holder.connect();
      await holder.query('BEGIN');
      holderXid = (await holder.query('SELECT txid_current() AS x')).rows[0].x;
      held.from = wallNow() - t0;
      process.stdout.write(`  ${sec(held.from)} s: horizon holder open (txid ${holderXid})\n`);
    }
    if (holder && now >= HOLD_END) {
      await holder.query('COMMIT');
      await holder.end();
      holder = null;
      held.to = wallNow() - t0;
      process.stdout.write(`  ${sec(held.to)} s: horizon holder committed\n`);
    }
    if (S.reindexAfter !== null && held.to > 0 && reindex.from === 0 && now >= held.to + S.reindexAfter * 1000) {
      // On a client of its own and not awaited here: the samples go on while it runs.
      reindex.from = now;
      process.stdout.write(`  ${sec(now)} s: REINDEX TABLE CONCURRENTLY doctor_job\n`);
      reindex.done = withClient(db.url, (c) => c.query('REINDEX TABLE CONCURRENTLY "doctor_job"')).then(
        () => {
          reindex.to = wallNow() - t0;
          process.stdout.write(`  ${sec(reindex.to)} s: reindex done (${((reindex.to - reindex.from) / 1000).toFixed(1)} s)\n`);
        },
        (e) => void (reindex.error = String(e?.message ?? e)),
      );
    }
    if (now >= nextSample) {
      const s = await sample(obs, nextSample, prevAt, workers);
      prevAt = nextSample;
      nextSample += S.sampleSeconds * 1000;
      samples.push(s);
      if (warmRss.length === 0 && s.at >= WARMUP) warmRss = workers.map((w) => w.rss);
      process.stdout.write(
        `  ${sec(s.at)} s [${s.phase}] enq ${s.producedPerS.toFixed(0)}/s, done ${s.donePerS.toFixed(0)}/s, queue ${s.queue}, p50 ${ms1(s.p50)} ms, p99 ${ms1(s.p99)} ms, ` +
          `table+idx ${MB(s.tableBytes + s.indexBytes)} MB, dead ${s.dead}, autovac ${s.autovacuums}, RSS ${s.workers.map((w) => MB(w.rss)).join('/')} MB\n`,
      );
    }
    await sleep(Math.max(1, Math.min(250, nextSample - (wallNow() - t0))));
  }
  stopProducing = true;
  const { produced, errors } = await production;
  await reindex.done;
  // The last sample at the end of the length (when the loop's timer lands on it late).
  if (nextSample <= L + 1) samples.push(await sample(obs, L, prevAt, workers));
  const endRss = workers.map((w) => w.rss);

  process.stdout.write(`  produced ${produced} jobs (${errors} failed enqueue transactions); draining\n`);
  const drainDeadline = wallNow() + 120_000;
  let remaining = -1;
  for (;;) {
    remaining = Number((await obs.query('SELECT count(*) AS n FROM "doctor_job"')).rows[0].n);
    if (remaining === 0 || wallNow() > drainDeadline) break;
    await sleep(250);
  }
  workers.forEach((w) => w.send({ cmd: 'stop' }));
  await Promise.all(workers.map((w) => w.stopped));

  const [counts] = (
    await obs.query(`SELECT count(*) FILTER (WHERE ok) AS ok_runs, count(DISTINCT job_id) FILTER (WHERE ok) AS ok_jobs,
      count(DISTINCT n) FILTER (WHERE ok AND n <> ALL($1::int[])) AS ok_numbers, count(DISTINCT n) FILTER (WHERE n = ANY($1::int[])) AS phantoms,
      count(*) AS runs, (SELECT count(*) FROM (SELECT DISTINCT job_id, attempt FROM soak_run) d) AS distinct_attempts FROM soak_run`, [failedNumbers])
  ).rows;
  // Lost: a committed job that never succeeded. Phantom: a job whose enqueue transaction failed and that ran all the same.
  // Jobs still queued when the drain gave up are not lost, but their fate is unknown.
  // (A job can have succeeded and still be in the queue while its batched delete is pending: hence the floor at 0.)
  const lost = Math.max(0, produced - Number(counts.ok_numbers) - Math.max(0, remaining));
  const phantoms = Number(counts.phantoms);
  const duplicates = Number(counts.ok_runs) - Number(counts.ok_jobs);
  const repeatedAttempts = Number(counts.runs) - Number(counts.distinct_attempts);
  await obs.end();
  await producer.close();

  // The server log of the soak's own cluster has each autovacuum of doctor_job (log_autovacuum_min_duration = 0).
  const autovacuumRuns = (cluster?.autovacuums('doctor_job') ?? []).map((run) => ({ ...run, at: run.at - t0 }));
  const targets = evaluate(samples, { rss: endRss, warmRss: warmRss.length ? warmRss : endRss, lost, remaining, phantoms, duplicates, repeatedAttempts, reindexFrom: reindex.from });
  const load1 = loadavg();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load0[0].toFixed(2)} at the start, ${load1[0].toFixed(2)} at the end`;
  const label = QUICK || S.seconds < 600
    ? `**A ${S.seconds} s ${QUICK ? 'quick run (SOAK_QUICK=1)' : 'short run'} on a shared ${cpus().length}-core machine, not the 10-minute run the targets ask for.** Its phases are short (warm-up ${sec(WARMUP)} s, hold ${sec(HOLD_END - HOLD_START)} s, after ${sec(L - HOLD_END)} s): it shows that the script works, not that the targets are met or missed.`
    : `A ${S.seconds} s run.`;
  const out: string[] = [
    '',
    `Run of ${started.toISOString()}: ${label}`,
    '',
    `- length ${S.seconds} s, sample every ${S.sampleSeconds} s; warm-up until ${sec(WARMUP)} s; horizon holder (\`BEGIN; SELECT txid_current()\` on a connection of its own, txid ${holderXid}) open from ${sec(held.from)} s to ${sec(held.to)} s`,
    `- producer (in the orchestrator): ${S.rate} jobs/s in \`enqueueMany\` transactions of ${S.txSize} jobs, ${MIX}; ${produced} jobs enqueued, ${errors} failed enqueue transactions`,
    `- ${S.workers} worker processes, each \`DoctorJobModule.forRoot\` with pollIntervalMs ${process.env.SOAK_DJ_POLL_MS || doctorJobConfig.default.pollIntervalMs}, batchSize ${process.env.SOAK_DJ_BATCH || doctorJobConfig.default.batchSize}, concurrency ${process.env.SOAK_DJ_CONCURRENCY || doctorJobConfig.default.concurrency}, backoff.baseMs 200, LISTEN/NOTIFY on; every handler run recorded in \`soak_run\` before the handler returns`,
    `- queue after the drain: ${remaining} jobs; handler runs ${counts.runs} (${counts.ok_runs} successful)`,
    ...(reindex.from ? [`- operator's remedy for index bloat: \`REINDEX TABLE CONCURRENTLY doctor_job\` from ${sec(reindex.from)} s (${S.reindexAfter} s after the holder ended) to ${reindex.to ? `${sec(reindex.to)} s` : `(failed: ${reindex.error})`}`] : []),
    `- server: ${server}`,
    `- machine: ${machine}`,
    '',
    'enq/s: jobs committed per second; done/s: handlers that succeeded per second; p50/p99: commit -> start latency of first attempts started in the window (from the enqueue time in the payload, noted just before the enqueue transaction, so it includes the commit; delayed jobs from the time they were due); sizes from `pg_relation_size` (table, each index via `pg_stat_user_indexes`) and `pg_indexes_size`; live, dead, autovacuum count and last autovacuum (seconds since the start) from `pg_stat_user_tables`; RSS and heap used from each worker\'s `process.memoryUsage()`.',
    '',
    ...table(samples),
    '',
    ...autovacuumTable(autovacuumRuns),
    '| target (issue 16, item 2) | figure | met |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.target} | ${t.figure} | ${t.met === null ? 'not assessable (phase too short, or jobs left in the queue)' : t.met ? 'yes' : '**no**'} |`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');

  // A full-length run (600 s or more) is the one SOAK.md reports; shorter ones write bench/results/soak-quick.* only.
  const full = !QUICK && S.seconds >= 600;
  const base = process.env.SOAK_OUT || (full ? 'soak' : 'soak-quick');
  if (!/^[a-z0-9-]+$/.test(base)) throw new Error(`SOAK_OUT must be a file name of letters, digits and dashes, got "${base}"`);
  const chartName = `${base}.svg`;
  const svg = soakChart(`Doctor Job soak: ${S.seconds} s at ${S.rate} jobs/s, 2 workers (shaded: horizon holder open)`, samples, held, L);
  if (S.save) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, chartName), svg);
    writeFileSync(join(dir, `${base}.json`), JSON.stringify({ settings: S, server, held, reindex: { from: reindex.from, to: reindex.to, error: reindex.error }, produced, errors, remaining, counts, samples, autovacuumRuns, targets }, null, 2) + '\n');
    const md = base === 'soak';
    if (md) writeFileSync(join(ROOT, 'SOAK.md'), soakMd(out, chartName));
    process.stdout.write(`Saved ${md ? 'SOAK.md, ' : ''}bench/results/${chartName} and bench/results/${base}.json\n`);
  }
  return errors === 0 && remaining === 0 ? 0 : 1;
}

/** SOAK.md's hand-written part starts at this line; a run keeps it as it is. */
const NOTES_MARKER = '<!-- Everything below this line is written by hand and kept by bench/soak.ts when it rewrites the run above. -->';

function soakMd(run: string[], chartName: string): string {
  const file = join(ROOT, 'SOAK.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = old.indexOf(NOTES_MARKER);
  const notes = at >= 0 ? old.slice(at) : `${NOTES_MARKER}\n`;
  return [
    '# Soak',
    '',
    '`npm run soak` (issue 16, items 1 and 2) runs Doctor Job for a while at a steady rate and records how the job table, latency and the workers\' memory behave over time, through a long transaction that holds back the xmin horizon. It is a script that prints figures (not a test). A full-length run (600 s or more) writes the part of this file from "Run of" to the line that starts the hand-written notes, `bench/results/soak.svg` (the chart) and `bench/results/soak.json`; shorter runs write `bench/results/soak-quick.{svg,json}` only. The text above "Run of" is fixed in `bench/soak.ts`; the notes below the run are written by hand and kept.',
    '',
    '```sh',
    'npm run soak                         # SOAK_SECONDS=600 at SOAK_RATE=1000 jobs/s; writes SOAK.md, bench/results/soak.{svg,json}',
    'SOAK_QUICK=1 npm run soak            # 60 s (CI smoke), samples every 5 s; writes bench/results/soak-quick.{svg,json}',
    'SOAK_PG_OPTS="-c autovacuum_naptime=15s" npm run soak   # server settings of the soak\'s own cluster',
    'SOAK_SERVER=shared npm run soak      # on the server at BENCH_DATABASE_URL instead of a cluster of its own',
    '# other settings: SOAK_SECONDS, SOAK_RATE, SOAK_SAMPLE_SECONDS, SOAK_TX_SIZE, SOAK_DJ_BATCH, SOAK_DJ_CONCURRENCY, SOAK_DJ_POLL_MS,',
    '# SOAK_SETUP_SQL (run after the migrations, e.g. ALTER TABLE doctor_job RESET (...)), SOAK_OUT (results file name), SOAK_SAVE=0',
    '```',
    '',
    'By default the soak runs on a PostgreSQL cluster of its own (`bench/soak/cluster.ts`: `initdb` into a temporary folder, PostgreSQL\'s stock settings plus `log_autovacuum_min_duration = 0`, a random port, removed at the end; needs root and the server binaries at `PG_BIN`, default `/usr/lib/postgresql/15/bin`). The reason: the shared server of this machine runs with `autovacuum = off` (a CI setting in `/etc/postgresql/15/main/conf.d/90-ci.conf`), and a soak about whether autovacuum keeps the job table flat cannot answer that where autovacuum never runs. It creates a database `bench_doctor_job_<random>` there, migrated by the producer app with every shipped migration. Phases: warm-up until min(60 s, 20 % of the length); from 40 % to 70 % of the length a connection of its own runs `BEGIN; SELECT txid_current()` and stays idle in transaction (the horizon holder), then commits; the rest is the recovery. At the end the producer stops, the queue is drained (up to 2 minutes), and lost jobs and duplicates are counted from the `soak_run` table every handler run writes to (as the reliability suite\'s `runs` table).',
    '',
    'The chart is an SVG written by the script: `bench/soak/chart.ts` lays out the panels, `bench/soak/svg.ts` draws them with d3-scale (scales, ticks, the latency panel\'s log scale) and d3-shape (the lines), which run under Node without a browser or a native canvas. `node .bench-build/bench/soak/chart.js <results.json> <chart.svg>` draws a saved run again (after `npm run soak` or `tsc -p bench/tsconfig.build.json` has compiled it).',
    '',
    `![soak chart](bench/results/${chartName})`,
    ...run,
    notes,
  ].join('\n').replace(/\n*$/, '\n');
}

async function createDatabase(): Promise<{ name: string; url: string }> {
  const name = `bench_doctor_job_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** The settings that decide whether (and how soon) autovacuum cleans doctor_job: the server's, then the table's own. */
async function serverSettings(obs: Pool): Promise<string> {
  const names = ['autovacuum', 'autovacuum_naptime', 'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_threshold', 'autovacuum_vacuum_insert_threshold', 'autovacuum_vacuum_cost_delay', 'autovacuum_vacuum_cost_limit', 'fsync', 'shared_buffers'];
  const { rows } = await obs.query(`SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1) ORDER BY name`, [names]);
  const [table] = (await obs.query(`SELECT reloptions FROM pg_class WHERE relname = 'doctor_job' AND relkind = 'r'`)).rows;
  const version = (await obs.query('SHOW server_version')).rows[0].server_version;
  return `PostgreSQL ${version}, ${rows.map((r) => `${r.name} ${r.setting}${r.unit ? ` ${r.unit}` : ''}`).join(', ')}; doctor_job (${(table?.reloptions ?? []).join(', ') || 'no table options'})`;
}

async function cleanup(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  // The soak's own cluster goes whole (database and all); on the shared server, the database is dropped.
  if (cluster) {
    dbName = null;
    cluster.stop();
    cluster = null;
  }
  if (dbName) {
    const name = dbName;
    dbName = null;
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).catch((e) => process.stderr.write(`could not drop ${name}: ${e.message}\n`));
  }
}

runScript(main, cleanup, 'worker processes and the database');
