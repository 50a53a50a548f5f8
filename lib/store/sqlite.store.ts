import type { Claim, ClaimedJob, ClaimParams, DeadLetter, DeadLetterQuery, JobError, JobStore, NewJob, PendingJob, QueueStats } from './job-store.interface';
import type { PrismaClientLike, TransactionClientLike } from './prisma-client.interface';
import { compareIds, encodeJobs, lostClaims, idsInOrder, missingDedupKeys, sortIds, toClaimedJob, toDate, toDeadLetter, toPendingJob, toTypeStats } from './rows';

// Times are ISO-8601 text with milliseconds in UTC, so they sort and compare as strings.
const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
const nowPlusMs = (param: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (${param} / 1000.0) || ' seconds')`;

const JOB_COLUMNS = `"id", "type", "payload", "attempts", "max_attempts", "priority", "created_at"`;
const DEAD_LETTER_COLUMNS = `"id", "job_id", "type", "payload", "attempts", "max_attempts", "error_message", "error_stack", "created_at", "failed_at"`;
// Ids travel as a JSON array of strings: exact for any 64-bit id, one parameter for any count.
const ID_LIST = `(SELECT CAST("value" AS INTEGER) FROM json_each(?))`;

type Row = Record<string, unknown>;
// An app's transaction may hold the single connection for a while: wait for it rather than fail.
const WAIT = { maxWait: 30_000, timeout: 30_000 };

/**
 * SQLite: every statement of the dialect. SQLite has one writer at a time, so a claim (a single
 * UPDATE ... RETURNING) is atomic without row locks. All times come from SQLite's clock. A job is
 * due when run_at has passed and it holds no live lease (locked_until), as on PostgreSQL.
 *
 * Prisma's SQLite adapter has a single connection. A statement sent on the root client while an
 * interactive transaction is open would run inside that transaction: it would see the jobs that
 * transaction wrote before they commit, and be rolled back with it. So every statement here
 * (but insert, which runs in the caller's transaction on purpose) runs in a transaction of its
 * own, which waits for the open one to finish.
 */
export class SqliteJobStore implements JobStore {
  readonly dialect = 'sqlite' as const;

  constructor(private readonly prisma: PrismaClientLike) {}

  async insert(tx: TransactionClientLike, jobs: NewJob[]): Promise<string[]> {
    const rows = await tx.$queryRawUnsafe<Row[]>(
      `INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "dedup_key", "run_at")
       SELECT "value" ->> '$.type', "value" -> '$.payload', "value" ->> '$.maxAttempts', "value" ->> '$.priority',
              "value" ->> '$.orderingKey', "value" ->> '$.dedupKey',
              COALESCE("value" ->> '$.runAt', ${nowPlusMs(`("value" ->> '$.delayMs')`)})
       FROM json_each(?) WHERE true ORDER BY "key"
       ON CONFLICT ("dedup_key") DO NOTHING
       RETURNING "id", "dedup_key"`,
      encodeJobs(jobs),
    );
    const missing = missingDedupKeys(jobs, rows);
    if (missing.length === 0) return idsInOrder(jobs, rows);
    const existing = await tx.$queryRawUnsafe<Row[]>(
      `SELECT "id", "dedup_key" FROM "doctor_job" WHERE "dedup_key" IN (SELECT "value" FROM json_each(?))`,
      JSON.stringify(missing),
    );
    return idsInOrder(jobs, rows, new Map(existing.map((row) => [row.dedup_key as string, String(row.id)])));
  }

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    const rows = await this.query(
      `UPDATE "doctor_job"
       SET "locked_until" = ${nowPlusMs('?')}, "attempts" = "attempts" + 1, "claim_token" = ?
       WHERE "id" IN (
         SELECT d."id" FROM "doctor_job" AS d
         WHERE d."run_at" <= ${NOW} AND (d."locked_until" IS NULL OR d."locked_until" <= ${NOW})
           AND d."type" NOT IN (SELECT "value" FROM json_each(?))
           -- A job with an ordering key waits until every earlier job of its key has left the queue.
           AND (d."ordering_key" IS NULL OR NOT EXISTS (
             SELECT 1 FROM "doctor_job" AS o WHERE o."ordering_key" = d."ordering_key" AND o."id" < d."id"))
         ORDER BY d."priority" DESC, d."run_at", d."id" LIMIT ?)
       RETURNING ${JOB_COLUMNS}`,
      leaseMs,
      token,
      JSON.stringify(excludeTypes),
      limit,
    );
    return rows.map(toClaimedJob).sort((a, b) => compareIds(a.id, b.id));
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const rows = await this.query(
      `DELETE FROM "doctor_job"
       WHERE EXISTS (SELECT 1 FROM json_each(?) AS c
                     WHERE CAST(c."value" ->> '$.id' AS INTEGER) = "doctor_job"."id" AND c."value" ->> '$.token' = "doctor_job"."claim_token")
       RETURNING "id", "claim_token"`,
      JSON.stringify(claims.map(({ id, token }) => ({ id, token }))),
    );
    return lostClaims(claims, rows);
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    const count = await this.execute(
      `UPDATE "doctor_job" SET "run_at" = ${nowPlusMs('?')}, "locked_until" = NULL, "claim_token" = NULL, "last_error" = ?
       WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
      Math.round(delayMs),
      error.message,
      id,
      token,
    );
    return count > 0;
  }

  async deadLetter(id: string, token: string, error: JobError): Promise<boolean> {
    return this.prisma.$transaction(async (tx: TransactionClientLike) => {
      const moved = await tx.$executeRawUnsafe(
        `INSERT INTO "doctor_job_dead_letter"
           ("job_id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "error_message", "error_stack", "created_at", "failed_at")
         SELECT "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", ?, ?, "created_at", ${NOW}
         FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
        error.message,
        error.stack ?? null,
        id,
        token,
      );
      if (moved === 0) return false;
      await tx.$executeRawUnsafe(`DELETE FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`, id, token);
      return true;
    }, WAIT);
  }

  async extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.query(
      `UPDATE "doctor_job" SET "locked_until" = ${nowPlusMs('?')} WHERE "id" IN ${ID_LIST} AND "claim_token" = ? RETURNING "id"`,
      leaseMs,
      JSON.stringify(ids),
      token,
    );
    return rows.map((row) => String(row.id));
  }

  async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    return this.execute(
      `UPDATE "doctor_job" SET "locked_until" = NULL, "attempts" = MAX("attempts" - 1, 0), "claim_token" = NULL
       WHERE "id" IN ${ID_LIST} AND "claim_token" = ?`,
      JSON.stringify(ids),
      token,
    );
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const rows = await this.query(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter"
       WHERE (? IS NULL OR "type" = ?) AND (? IS NULL OR "id" < CAST(? AS INTEGER))
       ORDER BY "id" DESC LIMIT ?`,
      query.type ?? null,
      query.type ?? null,
      query.before ?? null,
      query.before ?? null,
      query.limit,
    );
    return rows.map(toDeadLetter);
  }

  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    const rows = await this.query(`SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter" WHERE "id" = CAST(? AS INTEGER)`, id);
    return rows.length ? toDeadLetter(rows[0]) : null;
  }

  async replayDeadLetters(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.prisma.$transaction(async (tx: TransactionClientLike) => {
      const rows = await tx.$queryRawUnsafe<Row[]>(
        `INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "run_at")
         SELECT "type", "payload", "max_attempts", "priority", "ordering_key", ${NOW} FROM "doctor_job_dead_letter"
         WHERE "id" IN ${ID_LIST} ORDER BY "id"
         RETURNING "id"`,
        JSON.stringify(ids),
      );
      await tx.$executeRawUnsafe(`DELETE FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST}`, JSON.stringify(ids));
      return sortIds(rows);
    }, WAIT);
  }

  async deleteDeadLetters(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.execute(`DELETE FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST}`, JSON.stringify(ids));
  }

  async stats(): Promise<QueueStats> {
    const due = `"run_at" <= ${NOW} AND ("locked_until" IS NULL OR "locked_until" <= ${NOW})`;
    const types = await this.query(
      `SELECT "type",
         COUNT(*) FILTER (WHERE ${due}) AS "due",
         COUNT(*) FILTER (WHERE "locked_until" > ${NOW}) AS "running",
         COUNT(*) AS "total",
         COALESCE((julianday(${NOW}) - julianday(MIN("run_at") FILTER (WHERE ${due}))) * 86400000.0, 0) AS "oldest_due_ms"
       FROM "doctor_job" GROUP BY "type" ORDER BY "type"`,
    );
    const deadLetters = await this.query(`SELECT "type", COUNT(*) AS "count" FROM "doctor_job_dead_letter" GROUP BY "type" ORDER BY "type"`);
    return { types: types.map(toTypeStats), deadLetters: deadLetters.map((row) => ({ type: row.type as string, count: Number(row.count) })) };
  }

  async lastTick(type: string, init?: Date): Promise<Date | null> {
    if (init) {
      await this.execute(`INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES (?, ?) ON CONFLICT ("type") DO NOTHING`, type, init.toISOString());
    }
    const rows = await this.query(`SELECT "last_tick" FROM "doctor_job_schedule" WHERE "type" = ?`, type);
    return rows.length ? toDate(rows[0].last_tick) : null;
  }

  async claimTick(type: string, tick: Date, job: NewJob): Promise<string | null> {
    return this.prisma.$transaction(async (tx: TransactionClientLike) => {
      const won = await tx.$queryRawUnsafe<Row[]>(
        `INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES (?, ?)
         ON CONFLICT ("type") DO UPDATE SET "last_tick" = excluded."last_tick" WHERE "last_tick" < excluded."last_tick"
         RETURNING "type"`,
        type,
        tick.toISOString(),
      );
      if (won.length === 0) return null;
      const [id] = await this.insert(tx, [job]);
      return id;
    }, WAIT);
  }

  async listJobs(query: { type?: string; limit: number }): Promise<PendingJob[]> {
    const rows = await this.query(
      `SELECT ${JOB_COLUMNS}, "run_at", "last_error", ("locked_until" > ${NOW}) AS "claimed" FROM "doctor_job"
       WHERE (? IS NULL OR "type" = ?) ORDER BY "id" LIMIT ?`,
      query.type ?? null,
      query.type ?? null,
      query.limit,
    );
    return rows.map(toPendingJob);
  }

  private query(sql: string, ...params: unknown[]): Promise<Row[]> {
    return Promise.resolve(this.prisma.$transaction((tx: TransactionClientLike) => tx.$queryRawUnsafe<Row[]>(sql, ...params), WAIT));
  }

  private execute(sql: string, ...params: unknown[]): Promise<number> {
    return Promise.resolve(this.prisma.$transaction((tx: TransactionClientLike) => tx.$executeRawUnsafe(sql, ...params), WAIT));
  }
}
