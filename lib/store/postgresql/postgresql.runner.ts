/**
 * PostgreSQL: the runner's statements (claim, complete, retry, dead-letter, lease, release) on the
 * runner's connections (RunnerSql: the store's own pg pool, or Prisma's raw queries), with their
 * parameters bound compactly and their rows decoded. PostgresqlJobStore delegates to it.
 */
import type { Claim, ClaimedJob, ClaimParams, DeadLetterReason, JobError } from '../job-store.interface';
import { inIdOrder } from '../rows';
import { prepared, type RunnerSql } from './postgresql.connections';
import * as sql from './postgresql.runner.sql';

/** A PostgreSQL array literal of ids, positions or uuids (none needs quoting, which pg would do per element). */
function pgArray(values: Iterable<string | number>): string {
  return `{${[...values].join(',')}}`;
}

/**
 * Claims of at least this many jobs come back as one JSON value (sql.claim), smaller ones as rows
 * (sql.claimRows). On a table of 20,000 due jobs (bench/drain-claim-plan.ts, medians, round trip
 * included): 10 jobs took 0.69 ms as JSON against 0.52 as rows, 100 jobs 1.25 against 1.34, 1,000
 * jobs 6.75 against 7.20; the JSON form is also the cheaper one for the worker to decode.
 */
export const CLAIM_AS_JSON_FROM = 100;

/** A claimed job as the claim's row or JSON element: id, type, payload, attempts, max_attempts, created_at (epoch ms), trace_context. */
type ClaimedRow = [string, string, unknown, number, number, number, string | null];

/** A claimed job from its row or JSON element; `payload` as decoded (rows carry it as text, the JSON batch decoded). */
function toClaimedJob([id, type, , attempts, maxAttempts, createdAt, traceContext]: ClaimedRow, payload: unknown): ClaimedJob {
  return { id, type, payload, attempt: attempts, maxAttempts, createdAt: new Date(createdAt), traceContext };
}

const fromRow = (row: unknown[]): ClaimedJob => toClaimedJob(row as ClaimedRow, JSON.parse((row as ClaimedRow)[2] as string));

const CLAIM = prepared(sql.claim, 'doctor_job_claim');
const CLAIM_ROWS = prepared(sql.claimRows, 'doctor_job_claim_rows');
const COMPLETE = prepared(sql.complete, 'doctor_job_complete');
const COMPLETE_UNDER_LEASE = prepared(sql.completeUnderLease, 'doctor_job_complete_under_lease');

export class PostgresqlRunnerStatements {
  constructor(private readonly runnerSql: RunnerSql) {}

  async claim({ limit, leaseMs, token, excludeTypes = [] }: ClaimParams): Promise<ClaimedJob[]> {
    const params = [limit, leaseMs, token, excludeTypes.length ? JSON.stringify(excludeTypes) : null];
    // Both forms are prepared on the runner pool's connections (see PREPARED): for a claim that
    // finds one job, parsing and planning were about half its time. (Choosing the rows form after
    // a claim that brought few jobs, to spare a woken runner the JSON form's fixed cost, made the
    // drain slower: x0.72-0.80 of the raw floor against x0.80-0.85 in alternating runs. Not kept.)
    if (limit < CLAIM_AS_JSON_FROM) return inIdOrder((await this.runnerSql.arrays(CLAIM_ROWS, params)).map(fromRow));
    // One row, one column: the batch as a JSON array of [id, type, payload, attempts, max_attempts, created_at (epoch ms), trace_context].
    const [row] = await this.runnerSql.arrays(CLAIM, params);
    const text = row?.[0] as string | null | undefined;
    if (!text) return [];
    const claimed = JSON.parse(text) as ClaimedRow[];
    return inIdOrder(claimed.map((job) => toClaimedJob(job, job[2])));
  }

  async complete(claims: Claim[]): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    // Compact parameters: the ids, and for each the position of its token in a list of the
    // batch's tokens (mostly one or two claims).
    const tokens: string[] = [];
    const position = new Map<string, number>();
    const ids: string[] = new Array(claims.length);
    const at: number[] = new Array(claims.length);
    for (let i = 0; i < claims.length; i++) {
      const { id, token } = claims[i];
      let p = position.get(token);
      if (p === undefined) position.set(token, (p = tokens.push(token)));
      ids[i] = id;
      at[i] = p;
    }
    const rows = await this.runnerSql.rows<{ claim: string }>(COMPLETE, [pgArray(ids), pgArray(at), pgArray(tokens)]);
    return new Set(rows.map((row) => row.claim));
  }

  async completeUnderLease(claims: Claim[]): Promise<number> {
    if (claims.length === 0) return 0;
    // No per-row result to build and send: about 40 % less database time than complete().
    const tokens = new Set<string>();
    const ids: string[] = new Array(claims.length);
    for (let i = 0; i < claims.length; i++) {
      ids[i] = claims[i].id;
      tokens.add(claims[i].token);
    }
    return this.runnerSql.count(COMPLETE_UNDER_LEASE, [pgArray(ids), pgArray(tokens)]);
  }

  async retry(id: string, token: string, delayMs: number, error: JobError): Promise<boolean> {
    return (await this.runnerSql.count(sql.retry, [id, token, Math.round(delayMs), error.message, error.stack ?? null])) > 0;
  }

  async deadLetter(id: string, token: string, error: JobError, reason: DeadLetterReason = 'failed'): Promise<boolean> {
    return (await this.runnerSql.count(sql.deadLetter, [id, token, error.message, error.stack ?? null, reason])) > 0;
  }

  async extend(ids: string[], token: string, leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.runnerSql.rows<{ id: string }>(sql.extend, [JSON.stringify(ids), token, leaseMs]);
    return rows.map((row) => row.id);
  }

  async release(ids: string[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    return this.runnerSql.count(sql.release, [JSON.stringify(ids), token]);
  }
}
