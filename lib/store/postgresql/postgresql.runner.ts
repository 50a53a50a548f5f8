/**
 * PostgreSQL: the runner's statements (claim, complete, retry, dead-letter, lease, release) on the
 * runner's connections (RunnerSql: the store's own pg pool, or Prisma's raw queries), with their
 * parameters bound compactly and their rows decoded. PostgresqlJobStore delegates to it.
 */
import type { Claim, ClaimedJob, ClaimParams, DeadLetterReason, JobError } from '../job-store.interface';
import { emptyList } from '../../util/lists';
import { inIdOrder } from '../rows';
import { prepared, type RunnerSql } from './postgresql.connections';
import * as sql from './postgresql.runner.sql';

/** A PostgreSQL array literal of ids, positions or uuids (none needs quoting, which pg would do per element). */
function pgArray(values: Iterable<string | number>): string {
  return `{${[...values].join(',')}}`;
}

/**
 * Claims of at least this many jobs come back as one row of two values, the ids and the jobs' JSON
 * (sql.claim), smaller ones as a row per job (sql.claimRows). On a table of 20,000 due jobs (bench/drain-claim-plan.ts, medians, round trip
 * included): 10 jobs took 0.69 ms as JSON against 0.52 as rows, 100 jobs 1.25 against 1.34, 1,000
 * jobs 6.75 against 7.20; the JSON form is also the cheaper one for the worker to decode.
 */
export const CLAIM_AS_JSON_FROM = 100;

/** A claimed job as the claim's row: id, type, payload (JSON text), attempts, max_attempts, created_at (epoch ms), trace_context. */
type ClaimedRow = [string, string, string, number, number, number, string | null];

/** A claimed job as an element of the large claim's JSON: the row without its id, the payload decoded. */
type ClaimedElement = [string, unknown, number, number, number, string | null];

// Indexed reads, not destructuring: a destructured array goes through the iterator protocol,
// which made these loops several times costlier for the optimising compiler to compile.
const fromRow = (row: unknown[]): ClaimedJob => {
  const r = row as ClaimedRow;
  return { id: r[0], type: r[1], payload: JSON.parse(r[2]), attempt: r[3], maxAttempts: r[4], createdAt: new Date(r[5]), traceContext: r[6] };
};

/** The large claim's two values: the ids (comma-separated) and the jobs (a JSON array of elements, in the same order). */
function fromBatch(idList: string, jobsJson: string): ClaimedJob[] {
  const ids = idList.split(',');
  const elements = JSON.parse(jobsJson) as ClaimedElement[];
  if (elements.length !== ids.length) throw new Error(`The claim returned ${ids.length} ids for ${elements.length} jobs.`);
  // map, not a loop here: a loop would have V8 compile this whole function on the stack (OSR) and
  // again later; map compiles only its small callback (and gives the elements kind of every other claimed list, see emptyList).
  return ids.map((id, i) => {
    const e = elements[i];
    return { id, type: e[0], payload: e[1], attempt: e[2], maxAttempts: e[3], createdAt: new Date(e[4]), traceContext: e[5] };
  });
}

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
    // One row: the ids, comma-separated, and the batch as a JSON array of [type, payload, attempts, max_attempts, created_at (epoch ms), trace_context].
    const [row] = await this.runnerSql.arrays(CLAIM, params);
    const ids = row?.[0] as string | null | undefined;
    if (!ids) return emptyList();
    return inIdOrder(fromBatch(ids, row![1] as string));
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
