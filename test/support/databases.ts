import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPrismaClient, type PrismaService } from '../../sample/database/prisma.service';
import type { SqlDialect } from '../../sample/database/migrate';
import { createServerDatabase } from './servers';

export const postgresUp = () => process.env.DOCTOR_JOB_TEST_POSTGRES === 'up';
export const mariadbUp = () => process.env.DOCTOR_JOB_TEST_MARIADB === 'up';

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
  if (dialect !== 'sqlite') {
    const server = await createServerDatabase(dialect, `doctor_job_test_${randomBytes(6).toString('hex')}`);
    url = server.url;
    cleanup = server.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'doctor-job-test-'));
    url = `file:${join(dir, 'test.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const prisma = await createPrismaClient(url);
  // Tests look at the tables through a connection of their own, as another process would:
  // on SQLite, the app's single connection would see its own uncommitted writes.
  const observer = await createPrismaClient(url);
  const rewrite = (sql: string) => {
    if (dialect === 'postgresql') return sql;
    const positional = sql.replace(/\$\d+(::\w+(\[\])?)?/g, '?');
    // MariaDB quotes identifiers with backticks; the tests write them the standard way.
    if (dialect !== 'mysql') return positional;
    // Quote identifiers with backticks outside string literals; drop PostgreSQL casts.
    return positional
      .split(/('(?:[^']|'')*')/)
      .map((part, i) => (i % 2 ? part : part.replace(/"([A-Za-z_][A-Za-z0-9_]*)"/g, '`$1`').replace(/::text/g, '')))
      .join('');
  };
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

/**
 * Runs a suite on every dialect: PostgreSQL, SQLite and MariaDB. Off CI, a server that does not
 * answer has its suites skipped (the global setup fails the run under CI instead).
 */
export function eachDialect(title: string, suite: (dialect: SqlDialect) => void): void {
  for (const dialect of ['postgresql', 'sqlite', 'mysql'] as const) {
    const up = dialect === 'sqlite' || (dialect === 'postgresql' ? postgresUp() : mariadbUp());
    const run = up ? describe : describe.skip;
    run(`${title} [${dialect}]`, () => suite(dialect));
  }
}

/** A suite that needs PostgreSQL (skipped off CI when it is down; global setup fails CI instead). */
export const describePostgres: jest.Describe = ((...args: Parameters<jest.Describe>) =>
  (postgresUp() ? describe : describe.skip)(...args)) as jest.Describe;
