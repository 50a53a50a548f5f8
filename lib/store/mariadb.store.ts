import type { Claim, ClaimedJob, ClaimParams, DeadLetter, DeadLetterQuery, JobError, JobStore, NewJob, PendingJob, QueueStats } from './job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from './prisma-client.interface';
import { compareIds, encodeJobs, lostClaims, idsInOrder, missingDedupKeys, sortIds, toClaimedJob, toDate, toDeadLetter, toPendingJob, toTypeStats } from './rows';

// Times are UTC: every "now" is UTC_TIMESTAMP(3), whatever the session's time zone.
const NOW = 'UTC_TIMESTAMP(3)';
const nowPlusMs = (param: string) => `DATE_ADD(${NOW}, INTERVAL (${param}) * 1000 MICROSECOND)`;
const DUE = `j.\`run_at\` <= ${NOW} AND (j.\`locked_until\` IS NULL OR j.\`locked_until\` <= ${NOW})`;

// Payloads leave as JSON text (parsed in rows.ts), whatever the driver does with JSON columns.
const JOB_COLUMNS = 'CAST(`id` AS CHAR) AS `id`, `type`, CAST(`payload` AS CHAR) AS `payload`, `attempts`, `max_attempts`, `priority`, `created_at`';
const DEAD_LETTER_COLUMNS =
  'CAST(`id` AS CHAR) AS `id`, CAST(`job_id` AS CHAR) AS `job_id`, `type`, CAST(`payload` AS CHAR) AS `payload`, `attempts`, `max_attempts`, `error_message`, `error_stack`, `created_at`, `failed_at`';
// Ids travel as a JSON array: one parameter for any count.
const ID_LIST = "(SELECT CAST(ids.`id` AS UNSIGNED) FROM JSON_TABLE(?, '$[*]' COLUMNS (`id` VARCHAR(20) PATH '$')) AS ids)";
const WAIT = { maxWait: 30_000, timeout: 30_000 };
// JSON_TABLE columns take the connection's collation; the tables' is utf8mb4_unicode_ci.
const TEXT = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci';

type Row = Record<string, unknown>;

/**
 * MariaDB 10.6+ (not MySQL: it lacks INSERT/DELETE ... RETURNING): every statement of the dialect. Claims use FOR UPDATE SKIP LOCKED in a
 * transaction of their own (there is no UPDATE ... RETURNING): select and lock the due rows, stamp
 * them, read them back. No LISTEN/NOTIFY: the runner polls.
 */
export class MariadbJobStore implements JobStore {
  readonly dialect = 'mysql' as const;

  constructor(private readonly prisma: PrismaClientLike) {}

  async insert(tx: TransactionClientLike, jobs: NewJob[]): Promise<string[]> {
    // A duplicate dedup key is skipped (the id is the only other unique key, and it is generated).
    const rows = await tx.$queryRawUnsafe<Row[]>(
      `INSERT IGNORE INTO \`doctor_job\` (\`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`dedup_key\`, \`run_at\`, \`created_at\`)
       SELECT j.\`type\`, JSON_EXTRACT(?, CONCAT('$[', j.\`ord\` - 1, '].payload')), j.\`max_attempts\`, j.\`priority\`, j.\`ordering_key\`, j.\`dedup_key\`,
              COALESCE(STR_TO_DATE(j.\`run_at\`, '%Y-%m-%dT%H:%i:%s.%fZ'), ${nowPlusMs('j.`delay_ms`')}), ${NOW}
       FROM JSON_TABLE(?, '$[*]' COLUMNS (
         \`ord\` FOR ORDINALITY,
         \`type\` VARCHAR(255) ${TEXT} PATH '$.type',
         \`max_attempts\` INT PATH '$.maxAttempts',
         \`priority\` INT PATH '$.priority',
         \`ordering_key\` VARCHAR(255) ${TEXT} PATH '$.orderingKey',
         \`dedup_key\` VARCHAR(255) ${TEXT} PATH '$.dedupKey',
         \`run_at\` VARCHAR(40) ${TEXT} PATH '$.runAt',
         \`delay_ms\` BIGINT PATH '$.delayMs')) AS j
       ORDER BY j.\`ord\`
       RETURNING CAST(\`id\` AS CHAR) AS \`id\`, \`dedup_key\``,
      // Twice: JSON_EXTRACT keeps a payload's JSON (a bare string stays quoted), JSON_TABLE the rest.
      ...Array(2).fill(encodeJobs(jobs)),
    );
    const missing = missingDedupKeys(jobs, rows);
    if (missing.length === 0) return idsInOrder(jobs, rows);
    const existing = await tx.$queryRawUnsafe<Row[]>(
      `SELECT CAST(\`id\` AS CHAR) AS \`id\`, \`dedup_key\` FROM \`doctor_job\`
       WHERE \`dedup_key\` IN (SELECT k.\`key\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`key\` VARCHAR(255) ${TEXT} PATH '$')) AS k)`,
      JSON.stringify(missing),
    );
    return idsInOrder(jobs, rows, new Map(existing.map((row) => [row.dedup_key as string, String(row.id)])));
  }

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    return retryOnDeadlock(async () => {
      return this.prisma.$transaction(async (tx: TransactionClientLike) => {
        const due = await tx.$queryRawUnsafe<Row[]>(
          `SELECT CAST(j.\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` AS j
           WHERE ${DUE}
             AND j.\`type\` NOT IN (SELECT x.\`type\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`type\` VARCHAR(255) ${TEXT} PATH '$')) AS x)
             AND (j.\`ordering_key\` IS NULL OR NOT EXISTS (
               SELECT 1 FROM \`doctor_job\` AS o WHERE o.\`ordering_key\` = j.\`ordering_key\` AND o.\`id\` < j.\`id\`))
           ORDER BY j.\`priority\` DESC, j.\`run_at\`, j.\`id\`
           LIMIT ?
           FOR UPDATE SKIP LOCKED`,
          JSON.stringify(excludeTypes),
          limit,
        );
        if (due.length === 0) return [];
        const ids = JSON.stringify(due.map((row) => row.id));
        await tx.$executeRawUnsafe(
          `UPDATE \`doctor_job\` SET \`locked_until\` = ${nowPlusMs('?')}, \`attempts\` = \`attempts\` + 1, \`claim_token\` = ?
           WHERE \`id\` IN ${ID_LIST}`,
          leaseMs,
          token,
          ids,
        );
        const rows = await tx.$queryRawUnsafe<Row[]>(`SELECT ${JOB_COLUMNS} FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\``, ids);
        return rows.map(toClaimedJob).sort((a, b) => compareIds(a.id, b.id));
      }, WAIT);
    });
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    return retryOnDeadlock(async () => {
      if (claims.length === 0) return new Set();
      const rows = await this.prisma.$queryRawUnsafe<Row[]>(
        `DELETE FROM \`doctor_job\`
         WHERE (\`id\`, \`claim_token\`) IN (
           SELECT CAST(c.\`id\` AS UNSIGNED), c.\`token\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`id\` VARCHAR(20) PATH '$.id', \`token\` VARCHAR(36) ${TEXT} PATH '$.token')) AS c)
         RETURNING CAST(\`id\` AS CHAR) AS \`id\`, \`claim_token\``,
        JSON.stringify(claims.map(({ id, token }) => ({ id, token }))),
      );
      return lostClaims(claims, rows);
    });
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return retryOnDeadlock(async () => {
      const count = await this.prisma.$executeRawUnsafe(
        `UPDATE \`doctor_job\` SET \`run_at\` = ${nowPlusMs('?')}, \`locked_until\` = NULL, \`claim_token\` = NULL, \`last_error\` = ?
         WHERE \`id\` = ? AND \`claim_token\` = ?`,
        Math.round(delayMs),
        error.message,
        id,
        token,
      );
      return count > 0;
    });
  }

  async deadLetter(id: string, token: string, error: JobError): Promise<boolean> {
    return retryOnDeadlock(async () => {
      return this.prisma.$transaction(async (tx: TransactionClientLike) => {
        const moved = await tx.$executeRawUnsafe(
          `INSERT INTO \`doctor_job_dead_letter\`
             (\`job_id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`error_message\`, \`error_stack\`, \`created_at\`, \`failed_at\`)
           SELECT \`id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ?, ?, \`created_at\`, ${NOW}
           FROM \`doctor_job\` WHERE \`id\` = ? AND \`claim_token\` = ? FOR UPDATE`,
          error.message,
          error.stack ?? null,
          id,
          token,
        );
        if (moved === 0) return false;
        await tx.$executeRawUnsafe('DELETE FROM `doctor_job` WHERE `id` = ? AND `claim_token` = ?', id, token);
        return true;
      }, WAIT);
    });
  }

  async extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    return retryOnDeadlock(async () => {
      if (ids.length === 0) return [];
      return this.prisma.$transaction(async (tx: TransactionClientLike) => {
        await tx.$executeRawUnsafe(
          `UPDATE \`doctor_job\` SET \`locked_until\` = ${nowPlusMs('?')} WHERE \`id\` IN ${ID_LIST} AND \`claim_token\` = ?`,
          leaseMs,
          JSON.stringify(ids),
          token,
        );
        const rows = await tx.$queryRawUnsafe<Row[]>(
          `SELECT CAST(\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} AND \`claim_token\` = ?`,
          JSON.stringify(ids),
          token,
        );
        return rows.map((row) => String(row.id));
      }, WAIT);
    });
  }

  async release(ids: string[], token: string): Promise<number> {
    return retryOnDeadlock(async () => {
      if (ids.length === 0) return 0;
      return this.prisma.$executeRawUnsafe(
        `UPDATE \`doctor_job\` SET \`locked_until\` = NULL, \`attempts\` = GREATEST(\`attempts\` - 1, 0), \`claim_token\` = NULL
         WHERE \`id\` IN ${ID_LIST} AND \`claim_token\` = ?`,
        JSON.stringify(ids),
        token,
      );
    });
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const rows = await this.prisma.$queryRawUnsafe<Row[]>(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM \`doctor_job_dead_letter\`
       WHERE (? IS NULL OR \`type\` = ?) AND (? IS NULL OR \`id\` < CAST(? AS UNSIGNED))
       ORDER BY \`doctor_job_dead_letter\`.\`id\` DESC LIMIT ?`,
      query.type ?? null,
      query.type ?? null,
      query.before ?? null,
      query.before ?? null,
      query.limit,
    );
    return rows.map(toDeadLetter);
  }

  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    const rows = await this.prisma.$queryRawUnsafe<Row[]>(`SELECT ${DEAD_LETTER_COLUMNS} FROM \`doctor_job_dead_letter\` WHERE \`id\` = ?`, id);
    return rows.length ? toDeadLetter(rows[0]) : null;
  }

  async replayDeadLetters(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.prisma.$transaction(async (tx: TransactionClientLike) => {
      const rows = await tx.$queryRawUnsafe<Row[]>(
        `INSERT INTO \`doctor_job\` (\`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`run_at\`, \`created_at\`)
         SELECT \`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ${NOW}, ${NOW} FROM \`doctor_job_dead_letter\`
         WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\`
         RETURNING CAST(\`id\` AS CHAR) AS \`id\``,
        JSON.stringify(ids),
      );
      await tx.$executeRawUnsafe(`DELETE FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST}`, JSON.stringify(ids));
      return sortIds(rows);
    }, WAIT);
  }

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.prisma.$executeRawUnsafe(`DELETE FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST}`, JSON.stringify(ids));
  }

  async stats(): Promise<QueueStats> {
    const types = await this.prisma.$queryRawUnsafe<Row[]>(
      `SELECT j.\`type\`,
         CAST(SUM(CASE WHEN ${DUE} THEN 1 ELSE 0 END) AS SIGNED) AS \`due\`,
         CAST(SUM(CASE WHEN j.\`locked_until\` > ${NOW} THEN 1 ELSE 0 END) AS SIGNED) AS \`running\`,
         COUNT(*) AS \`total\`,
         COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(CASE WHEN ${DUE} THEN j.\`run_at\` END), ${NOW}) / 1000, 0) AS \`oldest_due_ms\`
       FROM \`doctor_job\` AS j GROUP BY j.\`type\` ORDER BY j.\`type\``,
    );
    const deadLetters = await this.prisma.$queryRawUnsafe<Row[]>(
      'SELECT `type`, COUNT(*) AS `count` FROM `doctor_job_dead_letter` GROUP BY `type` ORDER BY `type`',
    );
    return { types: types.map(toTypeStats), deadLetters: deadLetters.map((row) => ({ type: row.type as string, count: Number(row.count) })) };
  }

  async lastTick(type: string, init?: Date): Promise<Date | null> {
    if (init) {
      await this.prisma.$executeRawUnsafe('INSERT IGNORE INTO `doctor_job_schedule` (`type`, `last_tick`) VALUES (?, ?)', type, mysqlTime(init));
    }
    const rows = await this.prisma.$queryRawUnsafe<Row[]>('SELECT `last_tick` FROM `doctor_job_schedule` WHERE `type` = ?', type);
    return rows.length ? toDate(rows[0].last_tick) : null;
  }

  async claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    return this.prisma.$transaction(async (tx: TransactionClientLike) => {
      await tx.$executeRawUnsafe('INSERT IGNORE INTO `doctor_job_schedule` (`type`, `last_tick`) VALUES (?, ?)', type, mysqlTime(new Date(0)));
      const won = await tx.$executeRawUnsafe(
        'UPDATE `doctor_job_schedule` SET `last_tick` = ? WHERE `type` = ? AND `last_tick` < ?',
        mysqlTime(tick),
        type,
        mysqlTime(tick),
      );
      if (won === 0) return null;
      const [id] = await this.insert(tx, [job]);
      return id;
    }, WAIT);
  }

  async listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    const rows = await this.prisma.$queryRawUnsafe<Row[]>(
      `SELECT ${JOB_COLUMNS}, \`run_at\`, \`last_error\`, (\`locked_until\` > ${NOW}) AS \`claimed\` FROM \`doctor_job\`
       WHERE (? IS NULL OR \`type\` = ?) ORDER BY \`doctor_job\`.\`id\` LIMIT ?`,
      query.type ?? null,
      query.type ?? null,
      query.limit,
    );
    return rows.map(toPendingJob);
  }
}

/**
 * InnoDB resolves lock conflicts between concurrent claims and settles by aborting one side with a
 * deadlock error (1213); the statement is then simply run again.
 */
async function retryOnDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= 5 || !/\b1213\b|Deadlock found/.test(String((error as Error)?.message))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
    }
  }
}

/** A UTC time as MariaDB's DATETIME(3) literal. */
function mysqlTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
