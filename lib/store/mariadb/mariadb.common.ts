/**
 * What both halves of MariaDB's store (mariadb.store.ts, mariadb.admin.ts) use: the dialect's
 * statements, the retry on InnoDB deadlocks, and times and dead-letter filters as parameters.
 */
import type { DeadLetterFilter } from '../job-store.interface';
import * as adminSql from './mariadb.admin.sql';
import * as baseSql from './mariadb.sql';

/** Every statement of the dialect: the runner's and the outbox's, and the console's. */
export const sql = { ...baseSql, ...adminSql };

/** Attempts of a statement that InnoDB aborted as a deadlock victim, the first included. */
const DEADLOCK_ATTEMPTS = 5;
/** Wait before the next attempt after a deadlock: this many ms times the attempts so far. */
const DEADLOCK_BACKOFF_MS = 5;

/**
 * InnoDB resolves lock conflicts between concurrent claims and outcome writes by aborting one side
 * with a deadlock error (1213); the statement is then simply run again.
 */
export async function retryOnDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !/\b1213\b|Deadlock found/.test(String((error as Error)?.message))) throw error;
      await new Promise((resolve) => setTimeout(resolve, DEADLOCK_BACKOFF_MS * attempt));
    }
  }
}

/** A UTC time as MariaDB's DATETIME(3) literal. */
export function mariadbTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** A DeadLetterFilter as the statements' parameters: type, reason, failed before, failed after, each twice (NULL for any). */
export function filterParams(filter: DeadLetterFilter): unknown[] {
  const values = [filter.type ?? null, filter.reason ?? null, filter.failedBefore ? mariadbTime(filter.failedBefore) : null, filter.failedAfter ? mariadbTime(filter.failedAfter) : null];
  return values.flatMap((value) => [value, value]);
}
