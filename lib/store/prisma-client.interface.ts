/**
 * The structural types of the Prisma clients Doctor Job runs SQL through: root client,
 * transaction client, transaction options.
 */

/**
 * The parts of a Prisma client that Doctor Job uses. Structural, so any generated client
 * (prisma-client or prisma-client-js generator, any output path) fits.
 */
export interface RawQueryClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/** A Prisma interactive-transaction client (`tx` in `prisma.$transaction(async (tx) => ...)`). */
export type TransactionClientLike = RawQueryClient;

/** A root Prisma client: it can open transactions. */
export interface PrismaClientLike extends RawQueryClient {
  $transaction(...args: any[]): PromiseLike<any>;
}

export interface TransactionOptions {
  maxWait?: number;
  timeout?: number;
  isolationLevel?: string;
}
