/**
 * SQLite: the text of every statement Doctor Job runs, one export per JobStore method it serves
 * (parameters `?`, bound in sqlite.store.ts). Times are ISO-8601 text with milliseconds in UTC,
 * so they sort and compare as strings; all of them come from SQLite's clock.
 */
import { claimOrder, doubleQuoted as q, due, headOfOrderingKey } from '../sql-clauses';

const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
const nowPlusMs = (param: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (${param} / 1000.0) || ' seconds')`;

// Ids leave as text: the driver reads INTEGER as a JS number, inexact above 2^53. The alias shadows
// the column in ORDER BY, so ordering always names the table: ORDER BY "doctor_job"."id".
const ID = `CAST("id" AS TEXT) AS "id"`;
const JOB_COLUMNS = `${ID}, "type", "payload", "attempts", "max_attempts", "priority", "created_at"`;
const DEAD_LETTER_COLUMNS = `${ID}, CAST("job_id" AS TEXT) AS "job_id", "type", "payload", "attempts", "max_attempts", "error_message", "error_stack", "created_at", "failed_at"`;
// Ids travel as a JSON array of strings: exact for any 64-bit id, one parameter for any count.
const ID_LIST = `(SELECT CAST("value" AS INTEGER) FROM json_each(?))`;

export const insert = {
  /** Any batch, as one JSON array. */
  batch: `INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "dedup_key", "run_at", "trace_context")
       SELECT "value" ->> '$.type', "value" -> '$.payload', "value" ->> '$.maxAttempts', "value" ->> '$.priority',
              "value" ->> '$.orderingKey', "value" ->> '$.dedupKey',
              COALESCE("value" ->> '$.runAt', ${nowPlusMs(`("value" ->> '$.delayMs')`)}), "value" ->> '$.traceContext'
       FROM json_each(?) WHERE true ORDER BY "key"
       ON CONFLICT ("dedup_key") DO NOTHING
       RETURNING ${ID}, "dedup_key"`,
  /** The jobs holding the dedup keys that an insert skipped (a JSON array). */
  existing: `SELECT ${ID}, "dedup_key" FROM "doctor_job" WHERE "dedup_key" IN (SELECT "value" FROM json_each(?))`,
};

/** Lease ms, token, excluded types (JSON array), limit. One statement: SQLite has one writer at a time, so no row locks are needed. */
export const claim = `UPDATE "doctor_job"
       SET "locked_until" = ${nowPlusMs('?')}, "attempts" = "attempts" + 1, "claim_token" = ?
       WHERE "id" IN (
         SELECT d."id" FROM "doctor_job" AS d
         WHERE ${due(q, NOW, 'd')}
           AND d."type" NOT IN (SELECT "value" FROM json_each(?))
           AND ${headOfOrderingKey(q, 'd')}
         ORDER BY ${claimOrder(q, 'd')} LIMIT ?)
       RETURNING ${JOB_COLUMNS}, "trace_context"`;

/** Id, token: one job, in the transaction of a `transaction: true` handler. */
export const completeInTransaction = `DELETE FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`;

/** Claims as a JSON array of { id, token }; returns the rows deleted. */
export const complete = `DELETE FROM "doctor_job"
       WHERE EXISTS (SELECT 1 FROM json_each(?) AS c
                     WHERE CAST(c."value" ->> '$.id' AS INTEGER) = "doctor_job"."id" AND c."value" ->> '$.token' = "doctor_job"."claim_token")
       RETURNING ${ID}, "claim_token"`;

/** Delay ms, error message, id, token. */
export const retry = `UPDATE "doctor_job" SET "run_at" = ${nowPlusMs('?')}, "locked_until" = NULL, "claim_token" = NULL, "last_error" = ?
       WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`;

/** In one transaction: copy (message, stack, id, token), then remove (id, token). */
export const deadLetter = {
  copy: `INSERT INTO "doctor_job_dead_letter"
           ("job_id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "error_message", "error_stack", "created_at", "failed_at", "trace_context")
         SELECT "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", ?, ?, "created_at", ${NOW}, "trace_context"
         FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
  remove: `DELETE FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
};

/** Lease ms, ids (JSON array), token. */
export const extend = `UPDATE "doctor_job" SET "locked_until" = ${nowPlusMs('?')} WHERE "id" IN ${ID_LIST} AND "claim_token" = ? RETURNING ${ID}`;

/** Ids (JSON array), token. */
export const release = `UPDATE "doctor_job" SET "locked_until" = NULL, "attempts" = MAX("attempts" - 1, 0), "claim_token" = NULL
       WHERE "id" IN ${ID_LIST} AND "claim_token" = ?`;

/** Type twice, cursor id twice, limit. */
export const listDeadLetters = `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter"
       WHERE (? IS NULL OR "type" = ?) AND (? IS NULL OR "id" < CAST(? AS INTEGER))
       ORDER BY "doctor_job_dead_letter"."id" DESC LIMIT ?`;

/** Id. */
export const getDeadLetter = `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter" WHERE "id" = CAST(? AS INTEGER)`;

/** In one transaction: copy to the queue, returning the new ids (ids as a JSON array), then remove (the same ids). */
export const replayDeadLetters = {
  copy: `INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "run_at", "trace_context")
         SELECT "type", "payload", "max_attempts", "priority", "ordering_key", ${NOW}, "trace_context" FROM "doctor_job_dead_letter"
         WHERE "id" IN ${ID_LIST} ORDER BY "id"
         RETURNING ${ID}`,
  remove: `DELETE FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST}`,
};

/** Ids (JSON array). */
export const deleteDeadLetters = `DELETE FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST}`;

const DUE = due(q, NOW);
export const stats = {
  types: `SELECT "type",
         COUNT(*) FILTER (WHERE ${DUE}) AS "due",
         COUNT(*) FILTER (WHERE "locked_until" > ${NOW}) AS "running",
         COUNT(*) AS "total",
         COALESCE((julianday(${NOW}) - julianday(MIN("run_at") FILTER (WHERE ${DUE}))) * 86400000.0, 0) AS "oldest_due_ms"
       FROM "doctor_job" GROUP BY "type" ORDER BY "type"`,
  deadLetters: `SELECT "type", COUNT(*) AS "count" FROM "doctor_job_dead_letter" GROUP BY "type" ORDER BY "type"`,
};

export const lastTick = {
  /** Type, tick (ISO text). */
  init: `INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES (?, ?) ON CONFLICT ("type") DO NOTHING`,
  /** Type. */
  read: `SELECT "last_tick" FROM "doctor_job_schedule" WHERE "type" = ?`,
};

/** Type, tick (ISO text): moves the type's tick forward if no instance took it; returns a row only then. The job is inserted after it, in the same transaction. */
export const claimTick = `INSERT INTO "doctor_job_schedule" ("type", "last_tick") VALUES (?, ?)
         ON CONFLICT ("type") DO UPDATE SET "last_tick" = excluded."last_tick" WHERE "last_tick" < excluded."last_tick"
         RETURNING "type"`;

/** Type twice, limit. */
export const listJobs = `SELECT ${JOB_COLUMNS}, "run_at", "last_error", ("locked_until" > ${NOW}) AS "claimed" FROM "doctor_job"
       WHERE (? IS NULL OR "type" = ?) ORDER BY "doctor_job"."id" LIMIT ?`;
