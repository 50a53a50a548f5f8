import type { ModuleRef } from '@nestjs/core';

/** Options of an enqueue that joins the ambient transaction (no `tx` argument). */
export interface AmbientOptions {
  /** Outside a @Transactional() method, enqueue in a transaction of its own instead of refusing. */
  outsideTransaction?: boolean;
}

/** What Doctor Job needs of @nestjs-cls/transactional's TransactionHost. */
export interface AmbientTransactions {
  isTransactionActive(): boolean;
  readonly tx: unknown;
}

/**
 * The app's TransactionHost (@nestjs-cls/transactional), when the package is installed and set up;
 * undefined otherwise. The package is optional: it is only loaded here, on the first enqueue
 * without a transaction client.
 */
export function findAmbientTransactions(moduleRef: ModuleRef): AmbientTransactions | undefined {
  let TransactionHost: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ({ TransactionHost } = require('@nestjs-cls/transactional'));
  } catch {
    return undefined;
  }
  try {
    return moduleRef.get(TransactionHost as never, { strict: false }) as AmbientTransactions;
  } catch {
    return undefined;
  }
}
