/**
 * SQLite: the text of every statement Doctor Job runs, one export per JobStore method it serves
 * (parameters `?`, bound in sqlite.store.ts). Times are ISO-8601 text with milliseconds in UTC,
 * so they sort and compare as strings; all of them come from SQLite's clock.
 */
import { claimOrder, doubleQuoted as q, due, headOfOrderingKey, jobState } from '../sql-clauses';

const NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
const nowPlusMs = (param: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || (${param} / 1000.0) || ' seconds')`;

// Ids leave as text: the driver reads INTEGER as a JS number, inexact above 2^53. The alias shadows
// the column in ORDER BY, so ordering always names the table: ORDER BY "doctor_job"."id".
const ID = `CAST("id" AS TEXT) AS "id"`;
const JOB_COLUMNS = `${ID}, "type", "payload", "attempts", "max_attempts", "priority", "created_at"`;
const DEAD_LETTER_COLUMNS = `${ID}, CAST("job_id" AS TEXT) AS "job_id", "type", "payload", "attempts", "max_attempts", "error_message", "error_stack", "created_at", "failed_at", "reason", CAST("replay_of" AS TEXT) AS "replay_of"`;
/** Which dead letters (DeadLetterFilter): type, reason, failed before, failed after, each bound twice (NULL for any; times as ISO text, which compares as it sorts). */
const DEAD_LETTER_FILTER = `(? IS NULL OR "type" = ?) AND (? IS NULL OR "reason" = ?) AND (? IS NULL OR "failed_at" < ?) AND (? IS NULL OR "failed_at" >= ?)`;
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

/** In one transaction: reschedule (delay ms, error message, id, token), then record the failed attempt (message, stack, id). */
export const retry = {
  update: `UPDATE "doctor_job" SET "run_at" = ${nowPlusMs('?')}, "locked_until" = NULL, "claim_token" = NULL, "last_error" = ?
         WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
  history: `INSERT INTO "doctor_job_attempt" ("job_id", "run_job_id", "attempt", "error_message", "error_stack", "failed_at")
         SELECT "id", "id", "attempts", ?, ?, ${NOW} FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER)`,
};

/** In one transaction: copy (message, stack, reason, id, token), record the failed attempt (message, stack, id, token), then remove (id, token). */
export const deadLetter = {
  copy: `INSERT INTO "doctor_job_dead_letter"
           ("job_id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "error_message", "error_stack", "created_at", "failed_at", "trace_context", "reason", "replay_of")
         SELECT "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", ?, ?, "created_at", ${NOW}, "trace_context", ?, "replay_of"
         FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
  history: `INSERT INTO "doctor_job_attempt" ("job_id", "run_job_id", "attempt", "error_message", "error_stack", "failed_at")
         SELECT "id", "id", "attempts", ?, ?, ${NOW} FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
  remove: `DELETE FROM "doctor_job" WHERE "id" = CAST(? AS INTEGER) AND "claim_token" = ?`,
};

/** Lease ms, ids (JSON array), token. */
export const extend = `UPDATE "doctor_job" SET "locked_until" = ${nowPlusMs('?')} WHERE "id" IN ${ID_LIST} AND "claim_token" = ? RETURNING ${ID}`;

/** Ids (JSON array), token. */
export const release = `UPDATE "doctor_job" SET "locked_until" = NULL, "attempts" = MAX("attempts" - 1, 0), "claim_token" = NULL
       WHERE "id" IN ${ID_LIST} AND "claim_token" = ?`;

/** The filter (8), cursor id twice, limit. */
export const listDeadLetters = `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter"
       WHERE ${DEAD_LETTER_FILTER} AND (? IS NULL OR "id" < CAST(? AS INTEGER))
       ORDER BY "doctor_job_dead_letter"."id" DESC LIMIT ?`;

/** Id. */
export const getDeadLetter = `SELECT ${DEAD_LETTER_COLUMNS} FROM "doctor_job_dead_letter" WHERE "id" = CAST(? AS INTEGER)`;

/**
 * In one transaction: copy to the queue (replay_of: the old job id), returning the new ids (ids as
 * a JSON array); move the history to the new jobs (the new ids); then remove (the same ids).
 */
export const replayDeadLetters = {
  copy: `INSERT INTO "doctor_job" ("type", "payload", "max_attempts", "priority", "ordering_key", "run_at", "trace_context", "replay_of")
         SELECT "type", "payload", "max_attempts", "priority", "ordering_key", ${NOW}, "trace_context", "job_id" FROM "doctor_job_dead_letter"
         WHERE "id" IN ${ID_LIST} ORDER BY "id"
         RETURNING ${ID}`,
  history: `WITH m AS (SELECT j."id" AS "new_id", j."replay_of" AS "old_id" FROM "doctor_job" AS j WHERE j."id" IN ${ID_LIST})
         UPDATE "doctor_job_attempt" SET "job_id" = (SELECT m."new_id" FROM m WHERE m."old_id" = "doctor_job_attempt"."job_id")
         WHERE "job_id" IN (SELECT m."old_id" FROM m)`,
  remove: `DELETE FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST}`,
};

/** In one transaction: delete the history (ids as a JSON array), then the dead letters (the same ids). */
export const deleteDeadLetters = {
  history: `DELETE FROM "doctor_job_attempt" WHERE "job_id" IN (SELECT "job_id" FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST})`,
  remove: `DELETE FROM "doctor_job_dead_letter" WHERE "id" IN ${ID_LIST}`,
};

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

// ---- the operator's console (DoctorJobAdminService) ----

const STATE = jobState(q, NOW, 'j');
/**
 * A queued job as the console shows it (alias j), its state on the database's clock, and the
 * instance its claim token names (see claim-token.ts), joined as i.
 */
const QUEUED_COLUMNS = `CAST(j."id" AS TEXT) AS "id", j."type", ${STATE} AS "state", j."attempts", j."max_attempts", j."priority", j."ordering_key", j."dedup_key",
       j."run_at", j."last_error", j."locked_until", j."claim_token", i."name" AS "locked_by", CAST(j."replay_of" AS TEXT) AS "replay_of", j."created_at"`;
const WITH_INSTANCE = `"doctor_job" AS j LEFT JOIN "doctor_job_instance" AS i
         ON i."instance_key" = substr(j."claim_token", 16, 3) || substr(j."claim_token", 21, 3) || substr(j."claim_token", 25, 2)`;

/** State, type, ordering key, dedup key, cursor id (jobs after it): each twice (NULL for any); limit. */
export const findJobs = `SELECT ${QUEUED_COLUMNS} FROM ${WITH_INSTANCE}
       WHERE (? IS NULL OR ${STATE} = ?) AND (? IS NULL OR j."type" = ?)
         AND (? IS NULL OR j."ordering_key" = ?) AND (? IS NULL OR j."dedup_key" = ?)
         AND (? IS NULL OR j."id" > CAST(? AS INTEGER))
       ORDER BY j."id" LIMIT ?`;

/** Id. */
export const getJob = `SELECT ${QUEUED_COLUMNS}, j."payload" FROM ${WITH_INSTANCE} WHERE j."id" = CAST(? AS INTEGER)`;

/** Instance key, its name: registered at start, seen again at every housekeeping round. */
export const registerInstance = `INSERT INTO "doctor_job_instance" ("instance_key", "name") VALUES (?, ?)
       ON CONFLICT ("instance_key") DO UPDATE SET "name" = excluded."name", "seen_at" = ${NOW}`;

/** Ms: instances not seen for that long (their process is gone). */
export const pruneInstances = `DELETE FROM "doctor_job_instance" WHERE "seen_at" < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (? / 1000.0) || ' seconds')`;

/** Job id (a queued job's, or a dead letter's job_id). */
export const listAttempts = `SELECT CAST("run_job_id" AS TEXT) AS "run_job_id", "attempt", "error_message", "error_stack", "failed_at"
       FROM "doctor_job_attempt" WHERE "job_id" = CAST(? AS INTEGER) ORDER BY "doctor_job_attempt"."id"`;

/** Ids (JSON array): the rows, and whether a live lease holds them (the transaction is the only writer: no row locks). */
const lockQueued = `SELECT ${ID}, COALESCE("locked_until" > ${NOW}, 0) AS "running", ("run_at" <= ${NOW}) AS "due"
       FROM "doctor_job" WHERE "id" IN ${ID_LIST}`;
/** Ids (JSON array): those in the queue. */
const existingJobs = `SELECT ${ID} FROM "doctor_job" WHERE "id" IN ${ID_LIST}`;

/** In one transaction: check, copy to the dead letters (message, ids), then remove (ids). */
export const cancelJobs = {
  lock: lockQueued,
  existing: existingJobs,
  copy: `INSERT INTO "doctor_job_dead_letter"
           ("job_id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", "error_message", "error_stack", "created_at", "failed_at", "trace_context", "reason", "replay_of")
         SELECT "id", "type", "payload", "attempts", "max_attempts", "priority", "ordering_key", ?, NULL, "created_at", ${NOW}, "trace_context", 'cancelled', "replay_of"
         FROM "doctor_job" WHERE "id" IN ${ID_LIST} ORDER BY "id"`,
  remove: `DELETE FROM "doctor_job" WHERE "id" IN ${ID_LIST}`,
};

/** In one transaction: check, then make due now (ids). */
export const runJobsNow = {
  lock: lockQueued,
  existing: existingJobs,
  update: `UPDATE "doctor_job" SET "run_at" = ${NOW} WHERE "id" IN ${ID_LIST}`,
};

/** The filter (8): the matching dead letters' ids, for a bulk action in the same transaction. */
export const selectDeadLetters = `SELECT ${ID} FROM "doctor_job_dead_letter" WHERE ${DEAD_LETTER_FILTER} ORDER BY "doctor_job_dead_letter"."id"`;

/** The filter (8). */
export const countDeadLetters = `SELECT COUNT(*) AS "count" FROM "doctor_job_dead_letter" WHERE ${DEAD_LETTER_FILTER}`;

/** Type. */
export const pauseType = `INSERT INTO "doctor_job_paused_type" ("type") VALUES (?) ON CONFLICT ("type") DO NOTHING`;

/** Type. */
export const resumeType = `DELETE FROM "doctor_job_paused_type" WHERE "type" = ?`;

export const listPausedTypes = `SELECT "type", "paused_at" FROM "doctor_job_paused_type" ORDER BY "type"`;

/** Limit. History rows whose job is neither in the queue nor a dead letter (the job succeeded after failed attempts). */
export const pruneAttempts = `DELETE FROM "doctor_job_attempt" WHERE "id" IN (
         SELECT a."id" FROM "doctor_job_attempt" AS a
         WHERE NOT EXISTS (SELECT 1 FROM "doctor_job" AS j WHERE j."id" = a."job_id")
           AND NOT EXISTS (SELECT 1 FROM "doctor_job_dead_letter" AS d WHERE d."job_id" = a."job_id")
         LIMIT ?)`;

/** What `doctor-job doctor` judges: the file's pages and free pages, and per table its rows and bytes (bytes where SQLite has the dbstat table). */
export const diagnose = {
  file: `SELECT (SELECT "page_size" FROM pragma_page_size()) AS "page_size", (SELECT "page_count" FROM pragma_page_count()) AS "pages",
         (SELECT "freelist_count" FROM pragma_freelist_count()) AS "free_pages", (SELECT "auto_vacuum" FROM pragma_auto_vacuum()) AS "auto_vacuum",
         (SELECT "journal_mode" FROM pragma_journal_mode()) AS "journal_mode"`,
  tables: `SELECT "name" AS "table" FROM sqlite_master WHERE "type" = 'table' AND "name" LIKE 'doctor\\_job%' ESCAPE '\\' ORDER BY 1`,
  indexes: `SELECT "tbl_name" AS "table", "name" FROM sqlite_master WHERE "type" = 'index' AND "tbl_name" LIKE 'doctor\\_job%' ESCAPE '\\' ORDER BY 1, 2`,
  /** Bytes per table and index (only where SQLite was built with the dbstat table). */
  sizes: `SELECT "name", SUM("pgsize") AS "bytes" FROM dbstat GROUP BY "name"`,
  /** Rows of one table (a name from `tables`). */
  rows: (table: string) => `SELECT COUNT(*) AS "rows" FROM ${q(table.replace(/"/g, '""'))}`,
};
