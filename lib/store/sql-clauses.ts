/**
 * SQL fragments that every dialect's claim and stats statements share, written once: when a job
 * is due, which job heads its ordering key, the claim order. Each dialect's sql file passes its
 * identifier quoting and its expression for "now".
 */

/** Quotes an identifier the dialect's way. */
export type Quote = (name: string) => string;

/** PostgreSQL and SQLite: "name". */
export const doubleQuoted: Quote = (name) => `"${name}"`;

/** MariaDB: `name`. */
export const backticked: Quote = (name) => `\`${name}\``;

const column = (q: Quote, alias: string | undefined, name: string) => (alias ? `${alias}.${q(name)}` : q(name));

/**
 * A job is due when run_at has passed and it holds no live lease (locked_until). Claiming sets the
 * lease and leaves run_at alone, so a job whose worker died is claimed again, once its lease ends,
 * ahead of jobs enqueued after it.
 */
export function due(q: Quote, now: string, alias?: string): string {
  const lockedUntil = column(q, alias, 'locked_until');
  return `${column(q, alias, 'run_at')} <= ${now} AND (${lockedUntil} IS NULL OR ${lockedUntil} <= ${now})`;
}

/** A job with an ordering key waits until every earlier job of its key has left the queue. */
export function headOfOrderingKey(q: Quote, alias: string): string {
  const key = column(q, alias, 'ordering_key');
  return `(${key} IS NULL OR NOT EXISTS (
             SELECT 1 FROM ${q('doctor_job')} AS o WHERE o.${q('ordering_key')} = ${key} AND o.${q('id')} < ${column(q, alias, 'id')}))`;
}

/** Claim order: higher priority first, then the longest due, then enqueue order. */
export function claimOrder(q: Quote, alias: string): string {
  return `${column(q, alias, 'priority')} DESC, ${column(q, alias, 'run_at')}, ${column(q, alias, 'id')}`;
}

/**
 * A queued job's state, on the database's clock: `running` while a live lease holds it, else `due`
 * once run_at has passed, else `scheduled` (delayed, or waiting to retry).
 */
export function jobState(q: Quote, now: string, alias?: string): string {
  return `CASE WHEN ${column(q, alias, 'locked_until')} > ${now} THEN 'running' WHEN ${column(q, alias, 'run_at')} <= ${now} THEN 'due' ELSE 'scheduled' END`;
}
