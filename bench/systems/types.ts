/**
 * What each system under test provides: a producer (enqueue paths, the overhead transaction, queue
 * size) and a consumer (the worker side). Each system lives in a file of its own, loaded on
 * demand, so a worker process loads only the libraries of the system it runs.
 */
import { Pool } from 'pg';
import type { PrismaClient } from '../../generated/postgresql/client';
import type { SystemName } from '../common';

export interface Payload {
  i: number;
}
export type OnJob = (payload: Payload) => void;

export interface Producer {
  /** One job in a transaction of its own (the system's ordinary single-enqueue call). */
  enqueueOne(i: number): Promise<void>;
  /**
   * One job outside any transaction of the app's (the standalone enqueue): Doctor Job's
   * `outbox.send`, graphile-worker's `addJob`, pg-boss's `send`, raw: one autocommit INSERT.
   */
  sendOne(i: number): Promise<void>;
  /** `count` jobs in one call (the system's bulk path). */
  enqueueBulk(from: number, count: number): Promise<void>;
  /** A Prisma interactive transaction with one business insert, plus an enqueue in the same transaction when `withJob`. */
  businessTx(i: number, withJob: boolean): Promise<void>;
  /**
   * The same transaction as businessTx(i, true) with a bare INSERT of the job's row (type,
   * payload, max_attempts) in place of the enqueue call: what the row alone costs, measured beside
   * the enqueue in the same process (Doctor Job only).
   */
  bareInsertTx?(i: number): Promise<void>;
  /**
   * Connects a LISTEN session named as another instance's listener (Doctor Job only: an instance
   * alone on its database sends no NOTIFY); resolves to a function that disconnects it.
   */
  anotherInstanceListens?(): Promise<() => Promise<void>>;
  /** How the enqueue joins the Prisma transaction, or null when it cannot. */
  txEnqueueHow: string | null;
  /** Jobs not yet completed. */
  remaining(): Promise<number>;
  /** Empties the queue. */
  clear(): Promise<void>;
  /** Runs SQL on a connection of the bench's own (not the system's). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface Consumer {
  /** Starts taking jobs (connected, migrated and booted before, by makeConsumer). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Stops taking jobs but keeps everything open, so that start() takes them again with the same
   * instances (the drain-warm workload; without it the worker builds a new consumer, whose new
   * closures make V8 throw away code it optimised for the old ones).
   */
  pause?(): Promise<void>;
  /** Producer for the latency workload, in the same process (Doctor Job: the same app). */
  producer(): Promise<Producer>;
}

export interface SystemModule {
  makeProducer(url: string): Promise<Producer>;
  makeConsumer(url: string, variant: string, onJob: OnJob): Promise<Consumer>;
}

export function loadSystem(system: SystemName): SystemModule {
  switch (system) {
    case 'doctor-job':
      return require('./doctor-job');
    case 'graphile-worker':
      return require('./graphile-worker');
    case 'pg-boss':
      return require('./pg-boss');
    case 'raw':
      return require('./raw');
  }
}

export const BUSINESS_INSERT = `INSERT INTO "bench_order" ("customer", "amount_cents") VALUES ($1, $2::int)`;
export const customer = (i: number) => `customer-${i}`;
/** A job's row inserted as a bare statement ($1 type, $2 payload JSON, $3 max_attempts): what an enqueue is measured against. */
export const BARE_JOB_INSERT = `INSERT INTO "doctor_job" ("type", "payload", "max_attempts") VALUES ($1, $2::jsonb, $3::int)`;

/** A pool of the bench's own on the system's database, for counting and clearing. */
export function observerPool(url: string) {
  const pool = new Pool({ connectionString: url, max: 2 });
  return {
    pool,
    sql: async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await pool.query(text, params)).rows as T[],
  };
}

/** A Prisma client (the sample's generated PostgreSQL client) without Doctor Job, for the peers' overhead transactions. */
export function plainPrisma(url: string): PrismaClient {
  // Loaded on first use, so that a drain worker of a peer does not load Prisma.
  const { PrismaPg } = require('@prisma/adapter-pg') as typeof import('@prisma/adapter-pg');
  const { PrismaClient: Client } = require('../../generated/postgresql/client') as typeof import('../../generated/postgresql/client');
  return new Client({ adapter: new PrismaPg({ connectionString: url }) });
}
