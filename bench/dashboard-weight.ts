/**
 * The dashboard's page weight: bytes (raw and gzip) of the overview, a list of 50 jobs, a list of
 * 50 dead letters, a dead letter's page and the two assets, as a browser downloads them over real
 * HTTP from an app on SQLite with 10 job types; and the server's time per page (median of 20).
 * Prints figures; asserts nothing.
 *
 *   SWC_NODE_PROJECT=tsconfig.sample.json node -r @swc-node/register bench/dashboard-weight.ts
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { DoctorJobAdminService, DoctorJobModule, JobHandler, OutboxService } from '../lib';
import { DoctorJobDashboardModule } from '../lib/dashboard';
import { JobTester } from '../lib/testing';
import { createPrismaClient } from '../sample/database/prisma.service';

const TYPES = Array.from({ length: 10 }, (_, i) => `bench-type-${i}`);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-weight-'));
  const prisma = await createPrismaClient(`file:${join(dir, 'weight.db')}`);

  @Injectable()
  class Handlers {}
  for (const type of TYPES) {
    (Handlers.prototype as unknown as Record<string, unknown>)[type] = (payload: { n: number }) => {
      if (payload.n % 4 === 0) throw new Error(`${type} failed for order ${payload.n}: upstream answered 503`);
    };
    JobHandler(type, { maxAttempts: 1 })(Handlers.prototype, type, Object.getOwnPropertyDescriptor(Handlers.prototype, type)!);
  }
  @Module({
    imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma, autoStart: false }), DoctorJobDashboardModule.forRoot({ path: 'jobs', authorize: () => true })],
    providers: [Handlers],
  })
  class App {}

  const app = await NestFactory.create(App, { logger: false });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const outbox = app.get(OutboxService);
  const admin = app.get(DoctorJobAdminService);
  // 40 jobs per type run (a quarter fail: dead letters, and a last hour of activity), then 60 more per type left queued.
  for (const type of TYPES) {
    await outbox.transaction(async (tx) => {
      for (let n = 0; n < 40; n++) await (outbox as OutboxService<Record<string, unknown>>).enqueue(tx, type, { n, customer: `c-${n}`, items: [{ sku: 'A-1', qty: 2 }] });
    });
  }
  await JobTester.from(app).drain();
  for (const type of TYPES) {
    await outbox.transaction(async (tx) => {
      for (let n = 0; n < 60; n++) await (outbox as OutboxService<Record<string, unknown>>).enqueue(tx, type, { n, customer: `c-${n}` }, n % 2 ? { delayMs: 3_600_000 } : {});
    });
  }
  const letter = (await admin.listDeadLetters({ limit: 1 })).items[0].id;

  const base = `http://127.0.0.1:${port}/jobs`;
  const overview = await (await fetch(base)).text();
  const version = /dashboard\.css\?v=([0-9a-f]+)/.exec(overview)![1];
  const targets: [string, string][] = [
    ['overview (10 types)', base],
    ['jobs list (50 rows)', `${base}/jobs`],
    ['dead letters list (50 rows)', `${base}/dead-letters`],
    ['dead letter page', `${base}/dead-letters/${letter}`],
    ['dashboard.css', `${base}/assets/dashboard.css?v=${version}`],
    ['dashboard.js', `${base}/assets/dashboard.js?v=${version}`],
  ];
  const rows: { name: string; raw: number; gzip: number; ms: number }[] = [];
  for (const [name, url] of targets) {
    const body = Buffer.from(await (await fetch(url)).arrayBuffer());
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      await (await fetch(url)).arrayBuffer();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    rows.push({ name, raw: body.length, gzip: gzipSync(body).length, ms: times[10] });
  }
  console.log('page                           bytes   gzip  median ms (server + loopback)');
  for (const r of rows) console.log(`${r.name.padEnd(30)} ${String(r.raw).padStart(6)} ${String(r.gzip).padStart(6)}  ${r.ms.toFixed(1)}`);
  const first = rows.filter((r) => ['overview (10 types)', 'dashboard.css', 'dashboard.js'].includes(r.name));
  console.log(`overview + assets (first visit): ${first.reduce((s, r) => s + r.raw, 0)} bytes, ${first.reduce((s, r) => s + r.gzip, 0)} gzip`);
  await app.close();
  await prisma.$disconnect();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
