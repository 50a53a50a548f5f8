import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { transformFileSync, transformSync, type Options } from '@swc/core';

/**
 * An app whose node_modules has no @opentelemetry at all: Doctor Job compiled into
 * <tmp>/app/node_modules/doctor-job (outside this repository, whose node_modules has the
 * package), every other dependency linked from this repository's node_modules. Doctor Job's own
 * resolution path then has no @opentelemetry/api, as in an app that never installed it.
 */
const root = join(__dirname, '..', '..');
const swc: Options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: false,
  swcrc: false,
};

/** Compiles every .ts file under `from` (but specs) to .js under `to`. */
function compileTree(from: string, to: string): void {
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    if (statSync(source).isDirectory()) compileTree(source, join(to, entry));
    else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts') && !entry.endsWith('.d.ts')) {
      const target = join(to, entry.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, transformFileSync(source, swc).code);
    }
  }
}

/** The app: enqueues through Doctor Job, lets the runner handle what is due, and reports what it saw as one JSON line. */
const APP = `
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { DoctorJobModule, JobHandler, OutboxService } from 'doctor-job';
import { PrismaClient } from './generated/sqlite/client';

const doctorJob = require('path').dirname(require.resolve('doctor-job'));
const { applyMigrations } = require('./node_modules/doctor-job/dist/cli/migrations.js');
const tracing = require('./node_modules/doctor-job/dist/tracing/job-tracing.js');
const handled: string[] = [];

@Injectable()
class Handlers {
  @JobHandler('plain')
  run(_payload: unknown, job: { id: string }) {
    handled.push(job.id);
  }
}

async function main() {
  const url = process.env.DATABASE_URL!;
  await applyMigrations(url);
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: url.slice('file:'.length) }) });

  @Module({ imports: [ScheduleModule.forRoot(), DoctorJobModule.forRoot({ prisma, pollIntervalMs: 20 })], providers: [Handlers] })
  class AppModule {}

  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const outbox = app.get(OutboxService);
  const [now, later] = await outbox.transaction(async (tx: any) => [await outbox.enqueue(tx, 'plain', {}), await outbox.enqueue(tx, 'plain', {}, { delayMs: 600_000 })]);
  const batch = await outbox.transaction((tx: any) => outbox.enqueueMany(tx, [{ type: 'plain', payload: {} }, { type: 'plain', payload: {}, delayMs: 600_000 }]));
  for (let i = 0; i < 500 && !(handled.includes(now) && handled.includes(batch[0])); i++) await new Promise((r) => setTimeout(r, 20));
  // The successes leave the table in a batch after their handlers returned.
  let rows: unknown[] = [];
  for (let i = 0; i < 500; i++) {
    rows = await prisma.$queryRawUnsafe('SELECT CAST("id" AS TEXT) AS "id", "trace_context" FROM "doctor_job" ORDER BY "id"');
    if (rows.length === 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  let resolvable: boolean;
  try {
    require.resolve('@opentelemetry/api', { paths: [doctorJob] });
    resolvable = true;
  } catch {
    resolvable = false;
  }
  const report = {
    resolvable,
    tracingIsNoop: tracing.jobTracing() === tracing.NO_TRACING,
    loaded: Object.keys(require.cache).filter((file) => file.includes('opentelemetry')),
    otelGlobal: Object.getOwnPropertySymbols(globalThis).map(String).filter((s) => s.includes('opentelemetry')),
    handled: [now, batch[0]].every((id) => handled.includes(id)),
    stored: rows,
    later: [later, batch[1]],
  };
  await app.close();
  await prisma.$disconnect();
  console.log(JSON.stringify(report));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

describe('without @opentelemetry/api installed', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'doctor-job-no-otel-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('an app loads nothing of OpenTelemetry, its jobs run and store no trace context (NULL)', () => {
    const app = join(work, 'app');
    const modules = join(app, 'node_modules');
    mkdirSync(modules, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'doctor-job-no-otel-app', private: true, version: '1.0.0' }));
    for (const entry of readdirSync(join(root, 'node_modules'))) {
      if (entry === '@opentelemetry' || entry === '.bin' || entry.startsWith('.')) continue;
      symlinkSync(join(root, 'node_modules', entry), join(modules, entry), 'dir');
    }
    const pkg = join(modules, 'doctor-job');
    compileTree(join(root, 'lib'), join(pkg, 'dist'));
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    for (const dialect of ['sqlite']) {
      const from = join(root, 'prisma', dialect, 'migrations');
      for (const name of readdirSync(from).filter((n) => /^\d{14}_doctor_job/.test(n))) cpSync(join(from, name), join(pkg, 'prisma', dialect, 'migrations', name), { recursive: true });
    }
    compileTree(join(root, 'generated', 'sqlite'), join(app, 'generated', 'sqlite'));
    writeFileSync(join(app, 'main.js'), transformSync(APP, { ...swc, filename: 'main.ts' }).code);

    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${join(work, 'app.db')}` };
    delete env.NODE_PATH;
    delete env.NODE_OPTIONS;
    const result = spawnSync(process.execPath, ['main.js'], { cwd: app, env, encoding: 'utf8', timeout: 60_000 });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    // The package is not where Doctor Job looks (the proof that the set-up is right), so the no-op was chosen...
    expect(report.resolvable).toBe(false);
    expect(report.tracingIsNoop).toBe(true);
    // ...and nothing of OpenTelemetry was loaded or registered, by Doctor Job or anything else.
    expect(report.loaded).toEqual([]);
    expect(report.otelGlobal).toEqual([]);
    expect(report.handled).toBe(true);
    // The jobs still queued (delayed: one alone, one of a batch) have no trace context.
    expect(report.stored).toEqual(report.later.map((id: string) => ({ id, trace_context: null })));
    expect(relative(root, app).startsWith('..')).toBe(true);
  });
});
