import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPrismaClient, type PrismaService } from '../../sample/database/prisma.service';
import type { SqlDialect } from '../../sample/database/migrate';

export const postgresUp = () => process.env.DOCTOR_JOB_TEST_POSTGRES === 'up';
const adminUrl = () => process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** A fresh, migrated database of its own for one test file, on the real server (or a real SQLite file). */
export interface TestDatabase {
  dialect: SqlDialect;
  url: string;
  prisma: PrismaService;
  /** Runs SQL, on a connection separate from the app's, with positional parameters written as $1, $2… (rewritten to ? on SQLite). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  execute(sql: string, ...params: unknown[]): Promise<number>;
  /** Rows in the jobs table. */
  countJobs(): Promise<number>;
  countDeadLetters(): Promise<number>;
  dispose(): Promise<void>;
}

export async function createTestDatabase(dialect: SqlDialect): Promise<TestDatabase> {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'postgresql') {
    const name = `doctor_job_test_${randomBytes(6).toString('hex')}`;
    await admin(`CREATE DATABASE "${name}"`);
    const base = new URL(adminUrl());
    base.pathname = `/${name}`;
    url = base.toString();
    cleanup = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-job-test-'));
    url = `file:${join(dir, 'test.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const prisma = await createPrismaClient(url);
  // Tests look at the tables through a connection of their own, as another process would:
  // on SQLite, the app's single connection would see its own uncommitted writes.
  const observer = await createPrismaClient(url);
  const rewrite = (sql: string) => (dialect === 'sqlite' ? sql.replace(/\$\d+(::\w+(\[\])?)?/g, '?') : sql);
  const db: TestDatabase = {
    dialect,
    url,
    prisma,
    query: (sql, ...params) => observer.$queryRawUnsafe(rewrite(sql), ...params),
    execute: (sql, ...params) => observer.$executeRawUnsafe(rewrite(sql), ...params),
    countJobs: async () => Number((await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "doctor_job"'))[0].n),
    countDeadLetters: async () => Number((await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM "doctor_job_dead_letter"'))[0].n),
    dispose: async () => {
      await prisma.$disconnect();
      await observer.$disconnect();
      await cleanup();
    },
  };
  return db;
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The dialects to run a suite on: both, or SQLite alone (with PostgreSQL suites skipped) off CI. */
export function eachDialect(title: string, suite: (dialect: SqlDialect) => void): void {
  for (const dialect of ['postgresql', 'sqlite'] as const) {
    const run = dialect === 'postgresql' && !postgresUp() ? describe.skip : describe;
    run(`${title} [${dialect}]`, () => suite(dialect));
  }
}

/** A suite that needs PostgreSQL (skipped off CI when it is down; global setup fails CI instead). */
export const describePostgres: jest.Describe = ((...args: Parameters<jest.Describe>) =>
  (postgresUp() ? describe : describe.skip)(...args)) as jest.Describe;
