/**
 * The standalone enqueue side by side, interleaved: Doctor Job's `outbox.send`, graphile-worker's
 * `addJob`, pg-boss's `send` and the raw floor (one autocommit INSERT), each on a database of its
 * own on the same server, one job per call, sequentially from one producer. Rounds of one block
 * of BENCH_STANDALONE_BLOCK calls per system, the order rotated each round, so that the drift of
 * a shared machine (a commit's WAL flush costs 0.3 ms on a quiet disk and several ms on a busy
 * one) hits every system alike. Prints each system's median block rate, every block's rate, and
 * the ratios. `npm run bench` (standalone workload) measures the same calls one system after the
 * other, plus call → handler start latency.
 *
 * Build and run: npm run build && npx tsc -p bench/tsconfig.build.json && node .bench-build/bench/standalone-enqueue.js
 * BENCH_STANDALONE_ROUNDS (8), BENCH_STANDALONE_BLOCK (300), BENCH_SYSTEMS (doctor-job,graphile-worker,pg-boss,raw).
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createDatabase, dropDatabase, percentile, positiveIntEnv, settings, type SystemName } from './common';
import { loadSystem, type Producer } from './systems/types';

const ROUNDS = positiveIntEnv('BENCH_STANDALONE_ROUNDS', 8);
const BLOCK = positiveIntEnv('BENCH_STANDALONE_BLOCK', 300);
const WARM = 200;

async function main() {
  const systems = settings.systems;
  const made: { system: SystemName; name: string; producer?: Producer }[] = [];
  process.once('SIGINT', () => void Promise.all(made.map((m) => dropDatabase(m.name))).finally(() => process.exit(130)));
  try {
    for (const system of systems) {
      const db = await createDatabase(system);
      const entry: (typeof made)[number] = { system, name: db.name };
      made.push(entry);
      entry.producer = await loadSystem(system).makeProducer(db.url);
    }
    for (const { producer } of made) {
      for (let i = 0; i < WARM; i++) await producer!.sendOne(-1 - i);
      await producer!.clear();
    }
    const rates = new Map<SystemName, number[]>(systems.map((s) => [s, []]));
    let next = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < made.length; k++) {
        const { system, producer } = made[(round + k) % made.length];
        const t0 = performance.now();
        for (let i = 0; i < BLOCK; i++) await producer!.sendOne(next++);
        rates.get(system)!.push(BLOCK / ((performance.now() - t0) / 1000));
        await producer!.clear();
      }
    }
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    console.log(`\nstandalone enqueue, one job per call, sequential; ${ROUNDS} rounds of ${BLOCK} calls per system, interleaved (after ${WARM} untimed each)`);
    for (const system of systems) {
      const r = rates.get(system)!;
      console.log(`  ${system.padEnd(16)} median ${String(Math.round(median(r))).padStart(6)} jobs/s   blocks: ${r.map(Math.round).join(' ')}`);
    }
    const dj = rates.get('doctor-job');
    if (dj) {
      for (const peer of systems.filter((s) => s !== 'doctor-job')) {
        const ratios = dj.map((x, i) => x / rates.get(peer)![i]);
        console.log(`  doctor-job / ${peer}: x${(median(dj) / median(rates.get(peer)!)).toFixed(3)} (median of blocks; per round x${median(ratios).toFixed(3)}, from x${Math.min(...ratios).toFixed(2)} to x${Math.max(...ratios).toFixed(2)})`);
      }
    }
    console.log(`  load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (the machine is shared: 2 cores, other engineers' tests running)`);
  } finally {
    for (const { producer, name } of made) {
      await producer?.close().catch(() => undefined);
      await dropDatabase(name);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
