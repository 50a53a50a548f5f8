/**
 * A worker process, forked by bench/run.ts:
 *   node -r @swc-node/register bench/worker.ts   (SWC_NODE_PROJECT=tsconfig.sample.json)
 * Environment: BENCH_SYSTEM, BENCH_DB_URL, BENCH_MODE (drain | latency), BENCH_VARIANT.
 *
 * drain:   boots the system, says `ready`, starts taking jobs on `go`, reports progress, stops on
 *          `stop` and reports the handled count and the peak RSS (sampled every BENCH_RSS_SAMPLE_MS).
 *          BENCH_WORKER_PROFILE=DIR: a CPU profile of the drain alone (`go` to `stop`, boot left out)
 *          written to DIR/<system>-<pid>.cpuprofile (sampling every 100 µs), for Chrome DevTools.
 *          BENCH_MARK_GO=1: writes `=== TIMED GO <system>` and `=== TIMED END <system>` to stdout
 *          around the timed drain, to tell its lines in a V8 trace (BENCH_WORKER_NODE_ARGS="--trace-opt
 *          --trace-deopt") from the boot's and the warm-up's; bench/v8-trace-summary.py sums them.
 *          A `go` with `warmUp` is an untimed drain first: on `stop` the worker pauses its consumer
 *          (or builds it again, for systems that cannot pause), says `ready`, and waits for the
 *          timed drain's `go` (the drain-warm workload).
 * latency: boots the system and starts it, then on `go` produces BENCH_LATENCY_RATE jobs/s for
 *          BENCH_LATENCY_SECONDS, one transaction each, noting the time right after each commit;
 *          the handler notes its start time; reports the differences.
 */
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { settings, sleep, wallNow, type OrchestratorMessage, type SystemName, type WorkerMessage } from './common';
import { loadSystem, type Payload, type Producer } from './systems/types';

const system = process.env.BENCH_SYSTEM as SystemName;
const url = process.env.BENCH_DB_URL!;
const mode = process.env.BENCH_MODE ?? 'drain';
const variant = process.env.BENCH_VARIANT ?? 'default';

const send = (message: WorkerMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

let baseRss = 0;
let peakRss = 0;
let peakHeap = 0;
let sampling = false;
const sampler = setInterval(() => {
  if (!sampling) return;
  const { rss, heapUsed } = process.memoryUsage();
  peakRss = Math.max(peakRss, rss);
  peakHeap = Math.max(peakHeap, heapUsed);
}, settings.rssSampleMs);

let handled = 0;
const seen = new Set<number>();
const startedAt = new Map<number, number>();

let firstAt = 0;
/**
 * CPU readings (ms: the whole process, and its main thread where Linux tells) at the first handler
 * and at the last (when `expected` is known): the drain's own CPU, start-up and stop left out. The
 * rest of the process is V8's helper threads: the optimising compiler, the garbage collector's helpers.
 */
let cpuAtFirst: CpuReading | undefined;
let cpuAtLast: CpuReading | undefined;

interface CpuReading {
  process: number;
  main?: number;
}

function cpuNow(): CpuReading {
  const { user, system } = process.cpuUsage();
  let main: number | undefined;
  try {
    // The main thread's time on the CPU, in ns (the first field of its schedstat).
    main = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    main = undefined; // not Linux
  }
  return { process: (user + system) / 1000, main };
}
/** A drain's job count, when the orchestrator gives it: the last job is reported at once. */
let expected = 0;
/** Progress is sent while a drain runs (the last count sent, to send each once). */
let reporting = false;
let reported = -1;

function reportProgress(): void {
  if (!reporting || handled === reported) return;
  reported = handled;
  void send({ type: 'progress', handled, firstAt });
}

function onJob(payload: Payload): void {
  if (firstAt === 0) firstJob();
  if (mode === 'latency') startedAt.set(payload.i, performance.now());
  handled++;
  if (handled === expected) lastJob();
  seen.add(payload.i);
}

function firstJob(): void {
  firstAt = wallNow();
  cpuAtFirst = cpuNow();
}

function lastJob(): void {
  cpuAtLast = cpuNow();
  reportProgress();
}

/**
 * onJob's branches for the first and the last job, run once before any drain with nothing counted.
 * A branch that optimised code reaches for the first time has no type feedback, and V8 throws that
 * code away: at the end of a drain, whatever had inlined the handler was compiled again in the next
 * drain (Doctor Job's executor inlines it: 14-26 ms of compiles in each timed warm drain, 2-6 without).
 */
function rehearseOnJob(): void {
  // Some dozens of times: V8 records feedback only once a function has been called a few times.
  for (let k = 0; k < 50; k++) {
    firstAt = 0;
    expected = handled + 1;
    onJob(JSON.parse('{"i":-1}') as Payload); // parsed, as the payloads the systems hand over are
  }
  handled = 0;
  firstAt = 0;
  expected = 0;
  cpuAtFirst = cpuAtLast = undefined;
  seen.clear();
  startedAt.clear();
}

async function main(): Promise<void> {
  rehearseOnJob();
  let consumer = await loadSystem(system).makeConsumer(url, variant, onJob);
  let producer: Producer | undefined;
  if (mode === 'latency') {
    producer = await consumer.producer();
    await consumer.start();
  }
  const commands: OrchestratorMessage[] = [];
  let wake: (() => void) | null = null;
  process.on('message', (m: OrchestratorMessage) => {
    commands.push(m);
    wake?.();
  });
  baseRss = process.memoryUsage().rss;
  await send({ type: 'ready', rss: baseRss });
  const next = async (cmd: OrchestratorMessage['cmd']) => {
    for (;;) {
      const idx = commands.findIndex((c) => c.cmd === cmd);
      if (idx >= 0) return commands.splice(idx, 1)[0];
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };

  /** Drains until `stop`, reporting progress every 25 ms (and the last job at once, when `expected` is known). */
  const drainUntilStop = async () => {
    await consumer.start();
    reported = -1;
    reporting = true;
    const progress = setInterval(reportProgress, 25);
    await next('stop');
    clearInterval(progress);
    reporting = false;
  };

  let go = await next('go');
  // The drain-warm workload: the same drain untimed first, so that the timed one runs on code this process has run before.
  // Then the consumer pauses (Doctor Job, raw: the same instances take the timed drain) or is built again (the peers), and the counts start over.
  while (mode === 'drain' && go.cmd === 'go' && go.warmUp) {
    expected = go.jobs ?? 0;
    await drainUntilStop();
    if (consumer.pause) await consumer.pause();
    else {
      await consumer.stop();
      consumer = await loadSystem(system).makeConsumer(url, variant, onJob);
    }
    handled = 0;
    firstAt = 0;
    cpuAtFirst = cpuAtLast = undefined;
    expected = 0;
    seen.clear();
    await send({ type: 'ready', rss: process.memoryUsage().rss });
    go = await next('go');
  }
  if (go.cmd === 'go' && go.jobs) expected = go.jobs;
  sampling = true;
  peakRss = process.memoryUsage().rss;
  peakHeap = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  if (process.env.BENCH_MARK_GO) process.stdout.write(`=== TIMED GO ${system}\n`);

  if (mode === 'drain') {
    const profile = process.env.BENCH_WORKER_PROFILE ? await startProfile() : undefined;
    await drainUntilStop();
    await profile?.();
  } else {
    await produceAtRate(producer!);
    await next('stop');
  }

  sampling = false;
  const cpu = process.cpuUsage(cpu0);
  if (process.env.BENCH_MARK_GO) process.stdout.write(`=== TIMED END ${system}\n`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const drainCpuMs = cpuAtFirst && cpuAtLast ? cpuAtLast.process - cpuAtFirst.process : undefined;
  const drainMainCpuMs = cpuAtFirst?.main !== undefined && cpuAtLast?.main !== undefined ? cpuAtLast.main - cpuAtFirst.main : undefined;
  await consumer.stop();
  await producer?.close();
  clearInterval(sampler);
  await send({ type: 'stopped', handled, peakRss, peakHeap, baseRss, duplicates: handled - seen.size, cpuMs, drainCpuMs, drainMainCpuMs });
  process.disconnect();
}

/** Starts the V8 profiler; the function returned stops it and writes the profile to BENCH_WORKER_PROFILE. */
async function startProfile(): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(process.env.BENCH_WORKER_PROFILE!, `${system}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

async function produceAtRate(producer: Producer): Promise<void> {
  const warmup = Math.min(10, settings.latencyRate);
  const total = warmup + settings.latencyRate * settings.latencySeconds;
  const intervalMs = 1000 / settings.latencyRate;
  const committedAt = new Map<number, number>();
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(producer.enqueueOne(i).then(() => void committedAt.set(i, performance.now())));
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 15_000;
  while (startedAt.size < total && performance.now() < deadline) await sleep(20);
  const samples: number[] = [];
  for (let i = warmup; i < total; i++) {
    const start = startedAt.get(i);
    const commit = committedAt.get(i);
    if (start !== undefined && commit !== undefined) samples.push(start - commit);
  }
  await send({ type: 'latency', samples, lost: total - warmup - samples.length });
}

main().catch(async (error) => {
  process.stderr.write(`[worker ${system}] ${error?.stack ?? error}\n`);
  try {
    await send({ type: 'error', message: String(error?.message ?? error) });
  } finally {
    process.exit(1);
  }
});
