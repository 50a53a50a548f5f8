/**
 * What an enqueue adds to a Prisma interactive transaction, next to what a bare INSERT of the
 * same row adds (issue 15 item 2). Every variant is one `prisma.$transaction` with one business
 * insert (bench_order), through the same Prisma client (@prisma/adapter-pg, pool max 10), on a
 * fresh database, runner off (a producer-only instance):
 *
 *   base            the business insert only
 *   + INSERT        + a bare `INSERT INTO doctor_job (type, payload, max_attempts)` ($executeRawUnsafe)
 *   + INSERT…id     + the same INSERT … RETURNING id ($queryRawUnsafe): what returning the job id costs
 *   + INSERT…id, notify  + the same with pg_notify in it: what waking the runners from the transaction costs
 *   + enqueue       + outbox.enqueue(tx, …) (pg_notify in the insert's statement)
 *   + enqueue (ot)  the same inside outbox.transaction (no pg_notify in the transaction; a NOTIFY after the commit, at most one per 5 ms: announcer.ts)
 *
 * One at a time: rounds of one transaction of each variant (rotated order), mean and median
 * time and the process's CPU per transaction. 16 at once: blocks of transactions with 16 in
 * flight, alternating variants; tx/s, and the time each adds per transaction, 16 / rate − 16 / base rate.
 *
 * Build and run: npm run build && npx tsc -p bench/tsconfig.build.json && node .bench-build/bench/enqueue-overhead.js
 * BENCH_OVERHEAD_ROUNDS (2000), BENCH_OVERHEAD_BLOCK (700 transactions per concurrent block),
 * BENCH_OVERHEAD_BLOCKS (9 blocks per variant), BENCH_OVERHEAD_CONCURRENCY (16).
 *
 * The machine's speed drifts from second to second (a shared VM), more than the differences
 * measured here; so the enqueue's cost over the bare INSERT is also given paired: the median of the
 * differences within each round (one at a time) and within each block (16 at once), whose members
 * ran next to each other.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { createDatabase, dropDatabase, mean, percentile, positiveIntEnv } from './common';
import type { TransactionClientLike } from 'doctor-job';
import { boot, JOB_TYPE } from './systems/doctor-job';
import { BARE_JOB_INSERT, BUSINESS_INSERT, customer, observerPool } from './systems/types';
import { BUSINESS_TABLE_SQL, doctorJobConfig } from './common';

const ROUNDS = positiveIntEnv('BENCH_OVERHEAD_ROUNDS', 2_000);
const BLOCK = positiveIntEnv('BENCH_OVERHEAD_BLOCK', 700);
const CONCURRENCY = positiveIntEnv('BENCH_OVERHEAD_CONCURRENCY', 16);
const BLOCKS = positiveIntEnv('BENCH_OVERHEAD_BLOCKS', 9);
const WARM = 300;

const BARE_INSERT = BARE_JOB_INSERT;

async function main() {
  const db = await createDatabase('doctor-job');
  const interrupt = () => void dropDatabase(db.name).finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  const dj = await boot(db.url, { ...doctorJobConfig.default, autoStart: false }, true);
  const obs = observerPool(db.url);
  try {
    await obs.sql(BUSINESS_TABLE_SQL);
    const { prisma, outbox } = dj;
    type Tx = Parameters<Parameters<typeof prisma.$transaction>[0]>[0];
    const business = (tx: Tx, i: number) => tx.$executeRawUnsafe(BUSINESS_INSERT, customer(i), i % 10_000);
    const variants: [string, (i: number) => Promise<unknown>][] = [
      ['base', (i) => prisma.$transaction(async (tx) => void (await business(tx, i)))],
      ['+ INSERT', (i) => prisma.$transaction(async (tx) => {
        await business(tx, i);
        await tx.$executeRawUnsafe(BARE_INSERT, JOB_TYPE, JSON.stringify({ i }), 5);
      })],
      ['+ INSERT…id', (i) => prisma.$transaction(async (tx) => {
        await business(tx, i);
        await tx.$queryRawUnsafe(`${BARE_INSERT} RETURNING "id"::text AS "id"`, JOB_TYPE, JSON.stringify({ i }), 5);
      })],
      ['+ INSERT…id, notify', (i) => prisma.$transaction(async (tx) => {
        await business(tx, i);
        await tx.$queryRawUnsafe(`${BARE_INSERT} RETURNING "id"::text AS "id", pg_notify('doctor_job', '') IS NULL AS "n"`, JOB_TYPE, JSON.stringify({ i }), 5);
      })],
      ['+ enqueue', (i) => prisma.$transaction(async (tx) => {
        await business(tx, i);
        await outbox.enqueue(tx as unknown as TransactionClientLike, JOB_TYPE, { i });
      })],
      ['+ enqueue (ot)', (i) => outbox.transaction(async (tx) => {
        await business(tx as Tx, i);
        await outbox.enqueue(tx, JOB_TYPE, { i });
      })],
    ];
    const clear = () => obs.sql('TRUNCATE "doctor_job", "bench_order"');

    for (let i = 0; i < WARM; i++) for (const [, run] of variants) await run(i);
    await clear();

    // One at a time.
    const times = variants.map(() => [] as number[]);
    const cpu = variants.map(() => 0);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < variants.length; k++) {
        const v = (round + k) % variants.length;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await variants[v][1](round);
        times[v].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[v] += c.user + c.system;
      }
      if (round % 500 === 499) await clear();
    }
    await clear();

    // 16 at once.
    const rates = variants.map(() => [] as number[]);
    for (let b = 0; b < BLOCKS; b++) {
      for (let k = 0; k < variants.length; k++) {
        const v = b % 2 ? variants.length - 1 - k : k;
        let next = 0;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (next < BLOCK) await variants[v][1](next++);
        }));
        rates[v].push(BLOCK / ((performance.now() - t0) / 1000));
        await clear();
      }
    }

    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    const baseMean = mean(times[0]);
    const baseMedian = median(times[0]);
    const baseRate = median(rates[0]);
    const f = (x: number, d = 3) => x.toFixed(d);
    const rows = variants.map(([name], v) => {
      const rate = median(rates[v]);
      return [
        name,
        f(mean(times[v])),
        f(median(times[v])),
        v === 0 ? '' : f(mean(times[v]) - baseMean),
        v === 0 ? '' : f(median(times[v]) - baseMedian),
        f(cpu[v] / ROUNDS, 0),
        String(Math.round(rate)),
        v === 0 ? '' : f((CONCURRENCY / rate - CONCURRENCY / baseRate) * 1000),
      ];
    });
    const header = ['variant', 'mean ms', 'median ms', 'added (mean)', 'added (median)', 'CPU µs/tx', `tx/s (${CONCURRENCY} at once)`, `added ms/tx (${CONCURRENCY} at once)`];
    const all = [header, ...rows];
    const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
    console.log(`\nenqueue overhead in a Prisma interactive transaction: ${ROUNDS} rounds one at a time (after ${WARM} untimed), ${BLOCKS} blocks of ${BLOCK} per variant ${CONCURRENCY} at once (median block)`);
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    const added = (v: number) => ({ seq: mean(times[v]) - baseMean, seqMedian: median(times[v]) - baseMedian, conc: (CONCURRENCY / median(rates[v]) - CONCURRENCY / baseRate) * 1000 });
    const insert = added(1);
    // Paired: round by round (the variants of a round ran one after the other) and block by block.
    const pairedSeq = (v: number) => median(times[v].map((t, round) => t - times[1][round]));
    const pairedConc = (v: number) => median(rates[v].map((rate, b) => (CONCURRENCY / rate - CONCURRENCY / rates[1][b]) * 1000));
    for (const v of [4, 5]) {
      const e = added(v);
      console.log(
        `${variants[v][0]} − + INSERT: one at a time ${f(e.seq - insert.seq)} ms (mean), ${f(e.seqMedian - insert.seqMedian)} ms (median), ` +
          `${f(pairedSeq(v))} ms (paired median); ${CONCURRENCY} at once ${f(e.conc - insert.conc)} ms/tx (median blocks), ${f(pairedConc(v))} ms/tx (paired median) (target: ≤ 0.05)`,
      );
    }
    // Doctor Job's own JavaScript per enqueue: the same call with a client that answers at once
    // (no I/O), against that client's bare call: checks, JSON, statement, bookkeeping, tracing no-op.
    const instant = { $queryRawUnsafe: async () => [{ id: '1' }], $executeRawUnsafe: async () => 1 } as unknown as TransactionClientLike;
    const calls = 50_000;
    const perCall = async (fn: (i: number) => PromiseLike<unknown>) => {
      for (let i = 0; i < 5_000; i++) await fn(i);
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await fn(i);
      return ((performance.now() - t0) * 1000) / calls;
    };
    const bare = await perCall((i) => instant.$queryRawUnsafe(BARE_INSERT, JOB_TYPE, JSON.stringify({ i }), 5));
    const js = await perCall((i) => outbox.enqueue(instant, JOB_TYPE, { i }));
    console.log(`Doctor Job's JavaScript per enqueue, the database call answered at once: ${f(js - bare, 1)} µs (${f(js, 1)} µs per call against ${f(bare, 1)} µs for the bare call, ${calls} calls)`);
    console.log(`load average ${require('node:os').loadavg().map((x: number) => x.toFixed(2)).join(' ')} (the machine is shared: noisy)`);
  } finally {
    await obs.pool.end();
    await dj.close();
    await dropDatabase(db.name);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
