/**
 * PostgreSQL: a single job's insert (the common enqueue, and outbox.send), its statement built once
 * per shape: which optional columns it sends, and whether it wakes the runners.
 */
import type { AnnouncedTransaction, NewJob } from '../job-store.interface';
import type { TransactionClientLike } from '../prisma-client.interface';
import { prepared } from './postgresql.connections';
import type { OtherListeners } from './other-listeners';
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

/**
 * Whether an insert's statement carries pg_notify, delivered when its transaction commits
 * (folded into one per transaction). Yes for a transaction of the app's own (`enqueue(tx)`).
 * An outbox.transaction's commit is announced after it instead; but a notifying commit holds a
 * cluster-wide lock from before its commit record is flushed until it is done, so notifying
 * commits queue behind each other. Of one process's outbox.transactions, one at a time notifies
 * itself (with the store's token: its own listener is woken in-process), sparing the NOTIFY of
 * its own after the commit (a transaction with a flush, bench/enqueue-overhead.ts); those open
 * meanwhile leave it to the announcer. None notifies while no other instance listens.
 */
export class InsertNotify {
  /** The outbox.transaction that carries its own pg_notify, while it is open. */
  private holder?: AnnouncedTransaction;
  private readonly from: { from: string };

  /**
   * @param token the store's, the NOTIFY's payload
   * @param others whether another instance listens (none: an outbox.transaction never notifies)
   */
  constructor(
    token: string,
    private readonly others: Pick<OtherListeners, 'present'>,
  ) {
    this.from = { from: token };
  }

  /** What `insertOne`'s `notify` is for an insert in `transaction` (undefined: a transaction of the app's own). */
  of(transaction: AnnouncedTransaction | undefined): boolean | { from: string } {
    if (transaction === undefined) return true;
    if (!transaction.notifies) {
      if (!transaction.open || this.holder?.open || !this.others.present()) return false;
      transaction.notifies = true;
      this.holder = transaction;
    }
    return this.from;
  }

  /** `notify` for outbox.send's statement: with the token, while another instance listens. */
  ofSend(): false | { from: string } {
    return this.others.present() && this.from;
  }
}
