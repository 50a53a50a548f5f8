/**
 * PostgreSQL: a single job's insert (the common enqueue, and outbox.send), its statement built once
 * per shape: which optional columns it sends, and whether it wakes the runners.
 */
import type { NewJob } from '../job-store.interface';
import type { TransactionClientLike } from '../prisma-client.interface';
import { prepared } from './postgresql.connections';
import * as sql from './postgresql.sql';

/**
 * One job (the common enqueue): plain parameters, and only the columns that differ from the
 * table's defaults, so the usual enqueue sends three values. Undefined when its dedup key was
 * taken. The statement's text is built once per shape (which columns, notify or not). `notify`
 * `{ from }`: the NOTIFY carries the sender's token, by which its own listener knows it.
 */
export async function insertOne(tx: TransactionClientLike, job: NewJob, notify: boolean | { from: string }): Promise<string | undefined> {
  const params: unknown[] = [job.type, job.payload, job.maxAttempts];
  // Bit 0: notify; bit k+1: the k-th optional column of SINGLE_INSERT_OPTIONAL is sent; bit 7:
  // the NOTIFY's payload is the sender's token (the last parameter).
  let shape = notify ? 1 : 0;
  if (job.priority !== 0) (shape |= 1 << 1), params.push(job.priority);
  if (job.orderingKey !== undefined) (shape |= 1 << 2), params.push(job.orderingKey);
  if (job.runAt) (shape |= 1 << 3), params.push(job.runAt.toISOString());
  else if (job.delayMs) (shape |= 1 << 4), params.push(job.delayMs);
  if (job.traceContext !== undefined) (shape |= 1 << 5), params.push(job.traceContext);
  if (job.dedupKey !== undefined) (shape |= 1 << 6), params.push(job.dedupKey);
  if (typeof notify === 'object') (shape |= 1 << 7), params.push(notify.from);
  let statement = SINGLE_INSERTS.get(shape);
  if (statement === undefined) SINGLE_INSERTS.set(shape, (statement = singleInsert(shape)));
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(statement, ...params);
  return rows[0]?.id;
}

/** The single-job insert statements built so far, by shape (see insertOne). */
const SINGLE_INSERTS = new Map<number, string>();

/** The statement of a shape bit mask of insertOne. */
function singleInsert(bits: number): string {
  const shape: sql.SingleInsertShape = { notify: (bits & 1) !== 0, notifyFrom: (bits & (1 << 7)) !== 0 };
  sql.SINGLE_INSERT_OPTIONAL.forEach((name, k) => (shape[name] = (bits & (1 << (k + 1))) !== 0));
  // Prepared where it runs on the runner's pool (outbox.send); a Prisma transaction ignores the name.
  return prepared(sql.insert.single(shape), `doctor_job_insert_${bits}`);
}
