/**
 * MariaDB 10.6+ (the `mysql` dialect option; MySQL lacks INSERT/DELETE ... RETURNING): the text of
 * every statement Doctor Job runs, one export per JobStore method it serves (parameters `?`, bound
 * in mariadb.store.ts). Times are UTC: every "now" is UTC_TIMESTAMP(3), whatever the session's zone.
 */
import { backticked as q, claimOrder, due, headOfOrderingKey } from '../sql-clauses';

export const NOW = 'UTC_TIMESTAMP(3)';
const nowPlusMs = (param: string) => `DATE_ADD(${NOW}, INTERVAL (${param}) * 1000 MICROSECOND)`;
const DUE = due(q, NOW, 'j');

// Payloads leave as JSON text (parsed in rows.ts), whatever the driver does with JSON columns.
const JOB_COLUMNS = 'CAST(`id` AS CHAR) AS `id`, `type`, CAST(`payload` AS CHAR) AS `payload`, `attempts`, `max_attempts`, `priority`, `created_at`';
const DEAD_LETTER_COLUMNS =
  'CAST(`id` AS CHAR) AS `id`, CAST(`job_id` AS CHAR) AS `job_id`, `type`, CAST(`payload` AS CHAR) AS `payload`, `attempts`, `max_attempts`, `error_message`, `error_stack`, `created_at`, `failed_at`, ' +
  '`reason`, CAST(`replay_of` AS CHAR) AS `replay_of`';
/** Which dead letters (DeadLetterFilter): type, reason, failed before, failed after, each bound twice (NULL for any; times as DATETIME literals). */
export const DEAD_LETTER_FILTER = `(? IS NULL OR \`type\` = ?) AND (? IS NULL OR \`reason\` = ?)
         AND (? IS NULL OR \`failed_at\` < CAST(? AS DATETIME(3))) AND (? IS NULL OR \`failed_at\` >= CAST(? AS DATETIME(3)))`;
// Ids travel as a JSON array: one parameter for any count.
export const ID_LIST = "(SELECT CAST(ids.`id` AS UNSIGNED) FROM JSON_TABLE(?, '$[*]' COLUMNS (`id` VARCHAR(20) PATH '$')) AS ids)";
/**
 * One parameter per id, for the runner's writes to the queue: MariaDB runs a single-table UPDATE or
 * DELETE with `id IN (subquery)` as a scan that locks every row it reads, so it waited behind any
 * open transaction that had enqueued a job; a list of ids is a primary-key lookup of just those rows.
 */
export const idParams = (count: number) => `(${Array(count).fill('?').join(', ')})`;
// JSON_TABLE columns take the connection's collation; the tables' is utf8mb4_unicode_ci.
const TEXT = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci';

const KEYS = `(SELECT k.\`key\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`key\` VARCHAR(255) ${TEXT} PATH '$')) AS k)`;

/**
 * Serialises the producers of an ordering key (keys as a JSON array): the enqueuing transaction
 * locks the key's row of doctor_job_key_lock, in key order, until it ends. So a key's jobs get
 * their ids in commit order, and an uncommitted (or rolled-back) earlier job never lets a later one
 * of its key run first. A key's row is created once, outside the transaction (`create`), so two
 * first producers of a key never deadlock upgrading a lock on a row they both inserted; whether it
 * exists is read first without a lock (`known`): a locking read of a missing key would take a gap
 * lock that the insert on the other connection then waits for.
 */
export const lockKeys = {
  known: `SELECT \`ordering_key\` FROM \`doctor_job_key_lock\` WHERE \`ordering_key\` IN ${KEYS}`,
  /** One parameter per key: primary-key lookups lock just those rows (a JSON_TABLE subquery would scan, and lock, the gaps between them). */
  lock: (count: number) =>
    `SELECT \`ordering_key\` FROM \`doctor_job_key_lock\` WHERE \`ordering_key\` IN (${Array(count).fill('?').join(', ')}) ORDER BY \`ordering_key\` FOR UPDATE`,
  create: `INSERT IGNORE INTO \`doctor_job_key_lock\` (\`ordering_key\`) SELECT \`key\` FROM ${KEYS} AS new_keys`,
};

export const insert = {
  /**
   * Any batch, as one JSON array bound twice: JSON_EXTRACT keeps a payload's JSON (a bare string
   * stays quoted), JSON_TABLE the rest. A duplicate dedup key is skipped (the id is the only other
   * unique key, and it is generated).
   */
  batch: `INSERT IGNORE INTO \`doctor_job\` (\`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`dedup_key\`, \`run_at\`, \`created_at\`, \`trace_context\`)
       SELECT j.\`type\`, JSON_EXTRACT(?, CONCAT('$[', j.\`ord\` - 1, '].payload')), j.\`max_attempts\`, j.\`priority\`, j.\`ordering_key\`, j.\`dedup_key\`,
              COALESCE(STR_TO_DATE(j.\`run_at\`, '%Y-%m-%dT%H:%i:%s.%fZ'), ${nowPlusMs('j.`delay_ms`')}), ${NOW}, j.\`trace_context\`
       FROM JSON_TABLE(?, '$[*]' COLUMNS (
         \`ord\` FOR ORDINALITY,
         \`type\` VARCHAR(255) ${TEXT} PATH '$.type',
         \`max_attempts\` INT PATH '$.maxAttempts',
         \`priority\` INT PATH '$.priority',
         \`ordering_key\` VARCHAR(255) ${TEXT} PATH '$.orderingKey',
         \`dedup_key\` VARCHAR(255) ${TEXT} PATH '$.dedupKey',
         \`run_at\` VARCHAR(40) ${TEXT} PATH '$.runAt',
         \`delay_ms\` BIGINT PATH '$.delayMs',
         \`trace_context\` VARCHAR(1024) ${TEXT} PATH '$.traceContext')) AS j
       ORDER BY j.\`ord\`
       RETURNING CAST(\`id\` AS CHAR) AS \`id\`, \`dedup_key\``,
  /** The jobs holding the dedup keys that an insert skipped (a JSON array). */
  existing: `SELECT CAST(\`id\` AS CHAR) AS \`id\`, \`dedup_key\` FROM \`doctor_job\`
       WHERE \`dedup_key\` IN (SELECT k.\`key\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`key\` VARCHAR(255) ${TEXT} PATH '$')) AS k)`,
};

/** Three statements in one transaction (there is no UPDATE ... RETURNING): lock the due rows, stamp them, read them back. */
export const claim = {
  /** Excluded types (JSON array), limit. */
  lock: `SELECT CAST(j.\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` AS j
           WHERE ${DUE}
             AND j.\`type\` NOT IN (SELECT x.\`type\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`type\` VARCHAR(255) ${TEXT} PATH '$')) AS x)
             AND ${headOfOrderingKey(q, 'j')}
           ORDER BY ${claimOrder(q, 'j')}
           LIMIT ?
           FOR UPDATE SKIP LOCKED`,
  /** Lease ms, token, then one parameter per id. */
  stamp: (count: number) => `UPDATE \`doctor_job\` SET \`locked_until\` = ${nowPlusMs('?')}, \`attempts\` = \`attempts\` + 1, \`claim_token\` = ?
           WHERE \`id\` IN ${idParams(count)}`,
  /** Ids (JSON array). */
  read: `SELECT ${JOB_COLUMNS}, \`trace_context\` FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\``,
};

/** Id, token: one job, in the transaction of a `transaction: true` handler. */
export const completeInTransaction = 'DELETE FROM `doctor_job` WHERE `id` = ? AND `claim_token` = ?';

/** One parameter per id, then the claims as a JSON array of { id, token }; returns the rows deleted. */
export const complete = (count: number) => `DELETE FROM \`doctor_job\`
         WHERE \`id\` IN ${idParams(count)} AND (\`id\`, \`claim_token\`) IN (
           SELECT CAST(c.\`id\` AS UNSIGNED), c.\`token\` FROM JSON_TABLE(?, '$[*]' COLUMNS (\`id\` VARCHAR(20) PATH '$.id', \`token\` VARCHAR(36) ${TEXT} PATH '$.token')) AS c)
         RETURNING CAST(\`id\` AS CHAR) AS \`id\`, \`claim_token\``;

/** In one transaction: reschedule (delay ms, error message, id, token), then record the failed attempt (message, stack, id). */
export const retry = {
  update: `UPDATE \`doctor_job\` SET \`run_at\` = ${nowPlusMs('?')}, \`locked_until\` = NULL, \`claim_token\` = NULL, \`last_error\` = ?
           WHERE \`id\` = ? AND \`claim_token\` = ?`,
  history: `INSERT INTO \`doctor_job_attempt\` (\`job_id\`, \`run_job_id\`, \`attempt\`, \`error_message\`, \`error_stack\`, \`failed_at\`)
           SELECT \`id\`, \`id\`, \`attempts\`, ?, ?, ${NOW} FROM \`doctor_job\` WHERE \`id\` = ?`,
};

/** In one transaction: copy (message, stack, reason, id, token), record the failed attempt (message, stack, id, token), then remove (id, token). */
export const deadLetter = {
  copy: `INSERT INTO \`doctor_job_dead_letter\`
             (\`job_id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`error_message\`, \`error_stack\`, \`created_at\`, \`failed_at\`, \`trace_context\`, \`reason\`, \`replay_of\`)
           SELECT \`id\`, \`type\`, \`payload\`, \`attempts\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ?, ?, \`created_at\`, ${NOW}, \`trace_context\`, ?, \`replay_of\`
           FROM \`doctor_job\` WHERE \`id\` = ? AND \`claim_token\` = ? FOR UPDATE`,
  history: `INSERT INTO \`doctor_job_attempt\` (\`job_id\`, \`run_job_id\`, \`attempt\`, \`error_message\`, \`error_stack\`, \`failed_at\`)
           SELECT \`id\`, \`id\`, \`attempts\`, ?, ?, ${NOW} FROM \`doctor_job\` WHERE \`id\` = ? AND \`claim_token\` = ?`,
  remove: 'DELETE FROM `doctor_job` WHERE `id` = ? AND `claim_token` = ?',
};

/** In one transaction: push the leases forward (lease ms, ids, token), then read which ids the token holds (ids, token). */
export const extend = {
  /** Lease ms, one parameter per id, token. */
  update: (count: number) => `UPDATE \`doctor_job\` SET \`locked_until\` = ${nowPlusMs('?')} WHERE \`id\` IN ${idParams(count)} AND \`claim_token\` = ?`,
  held: `SELECT CAST(\`id\` AS CHAR) AS \`id\` FROM \`doctor_job\` WHERE \`id\` IN ${ID_LIST} AND \`claim_token\` = ?`,
};

/** One parameter per id, token. */
export const release = (count: number) => `UPDATE \`doctor_job\` SET \`locked_until\` = NULL, \`attempts\` = GREATEST(\`attempts\` - 1, 0), \`claim_token\` = NULL
         WHERE \`id\` IN ${idParams(count)} AND \`claim_token\` = ?`;

/** The filter (8), cursor id twice, limit. */
export const listDeadLetters = `SELECT ${DEAD_LETTER_COLUMNS} FROM \`doctor_job_dead_letter\`
       WHERE ${DEAD_LETTER_FILTER} AND (? IS NULL OR \`id\` < CAST(? AS UNSIGNED))
       ORDER BY \`doctor_job_dead_letter\`.\`id\` DESC LIMIT ?`;

/** Id. */
export const getDeadLetter = `SELECT ${DEAD_LETTER_COLUMNS} FROM \`doctor_job_dead_letter\` WHERE \`id\` = ?`;

/**
 * In one transaction: copy to the queue (replay_of: the old job id), returning the new ids (ids as
 * a JSON array); move the history to the new jobs (the new ids); then remove (the same ids).
 */
export const replayDeadLetters = {
  copy: `INSERT INTO \`doctor_job\` (\`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, \`run_at\`, \`created_at\`, \`trace_context\`, \`replay_of\`)
         SELECT \`type\`, \`payload\`, \`max_attempts\`, \`priority\`, \`ordering_key\`, ${NOW}, ${NOW}, \`trace_context\`, \`job_id\` FROM \`doctor_job_dead_letter\`
         WHERE \`id\` IN ${ID_LIST} ORDER BY \`id\`
         RETURNING CAST(\`id\` AS CHAR) AS \`id\``,
  history: `UPDATE \`doctor_job_attempt\` AS a JOIN \`doctor_job\` AS j ON j.\`replay_of\` = a.\`job_id\`
         SET a.\`job_id\` = j.\`id\` WHERE j.\`id\` IN ${ID_LIST}`,
  remove: `DELETE FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST}`,
};

/** In one transaction: delete the history (ids as a JSON array), then the dead letters (the same ids). */
export const deleteDeadLetters = {
  history: `DELETE FROM \`doctor_job_attempt\` WHERE \`job_id\` IN (SELECT \`job_id\` FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST})`,
  remove: `DELETE FROM \`doctor_job_dead_letter\` WHERE \`id\` IN ${ID_LIST}`,
};

export const stats = {
  types: `SELECT j.\`type\`,
         CAST(SUM(CASE WHEN ${DUE} THEN 1 ELSE 0 END) AS SIGNED) AS \`due\`,
         CAST(SUM(CASE WHEN j.\`locked_until\` > ${NOW} THEN 1 ELSE 0 END) AS SIGNED) AS \`running\`,
         COUNT(*) AS \`total\`,
         COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(CASE WHEN ${DUE} THEN j.\`run_at\` END), ${NOW}) / 1000, 0) AS \`oldest_due_ms\`
       FROM \`doctor_job\` AS j GROUP BY j.\`type\` ORDER BY j.\`type\``,
  deadLetters: 'SELECT `type`, COUNT(*) AS `count` FROM `doctor_job_dead_letter` GROUP BY `type` ORDER BY `type`',
};

export const lastTick = {
  /** Type, tick (DATETIME literal). */
  init: 'INSERT IGNORE INTO `doctor_job_schedule` (`type`, `last_tick`) VALUES (?, ?)',
  /** Type. */
  read: 'SELECT `last_tick` FROM `doctor_job_schedule` WHERE `type` = ?',
};

/** In one transaction: make sure the type has a row (type, epoch), move its tick forward (tick, type, tick), then insert the job. */
export const claimTick = {
  init: lastTick.init,
  advance: 'UPDATE `doctor_job_schedule` SET `last_tick` = ? WHERE `type` = ? AND `last_tick` < ?',
};

/** Type twice, limit. */
export const listJobs = `SELECT ${JOB_COLUMNS}, \`run_at\`, \`last_error\`, (\`locked_until\` > ${NOW}) AS \`claimed\` FROM \`doctor_job\`
       WHERE (? IS NULL OR \`type\` = ?) ORDER BY \`doctor_job\`.\`id\` LIMIT ?`;
