import { Injectable } from '@nestjs/common';
import { DeadLetterNotFoundError, InvalidArgumentError } from '../errors/invalid-argument.error';
import type { DeadLetter } from '../store/job-store.interface';
import { JobStoreHost } from '../store/job-store.host';
import { describe } from '../util/describe';

export interface DeadLetterListOptions {
  /** Only dead letters of this job type. */
  type?: string;
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/**
 * Inspect, replay and delete jobs that ran out of attempts (or failed for good). A malformed id
 * or limit throws an InvalidArgumentError (a 400 in an app); ids that are not dead letters throw
 * a DeadLetterNotFoundError (a 404) and change nothing.
 */
@Injectable()
export class DeadLetterService {
  constructor(private readonly host: JobStoreHost) {}

  /** Dead letters, newest first, a page at a time. */
  async list(options: DeadLetterListOptions = {}): Promise<DeadLetterPage> {
    const limit = options.limit ?? 50;
    if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= 500)) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to 500, got ${describe(limit)}`);
    }
    if (options.cursor !== undefined) checkIds([options.cursor], 'cursor');
    const items = await this.host.store.listDeadLetters({ type: options.type, limit: limit + 1, before: options.cursor });
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? page[page.length - 1].id : null };
  }

  /** One dead letter, or null. */
  async get(id: string): Promise<DeadLetter | null> {
    checkIds([id], 'id');
    return this.host.store.getDeadLetter(id);
  }

  /**
   * Puts dead letters back in the queue, due now, with a fresh attempt count; all in one
   * transaction. Returns the new job ids, in the order of the dead letters' ids. If any id is not
   * a dead letter, throws a DeadLetterNotFoundError naming it and replays none.
   */
  async replay(ids: string | string[]): Promise<string[]> {
    const list = await this.existing(ids);
    return this.host.store.replayDeadLetters(list);
  }

  /**
   * Deletes dead letters for good; returns how many were deleted. If any id is not a dead letter,
   * throws a DeadLetterNotFoundError naming it and deletes none.
   */
  async delete(ids: string | string[]): Promise<number> {
    const list = await this.existing(ids);
    return this.host.store.deleteDeadLetters(list);
  }

  /**
   * The ids, checked and without repeats, once each is known to be a dead letter. (One replayed
   * or deleted by another caller between this check and the write is skipped by the write.)
   */
  private async existing(ids: string | string[]): Promise<string[]> {
    const list = [...new Set(Array.isArray(ids) ? ids : [ids])];
    checkIds(list, 'id');
    const found = await Promise.all(list.map((id) => this.host.store.getDeadLetter(id)));
    const missing = list.filter((_, i) => found[i] === null);
    if (missing.length) throw new DeadLetterNotFoundError(missing);
    return list;
  }
}

const MAX_ID = 2n ** 63n - 1n;

function checkIds(ids: unknown[], what: string): void {
  for (const id of ids) {
    if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id) || BigInt(id) > MAX_ID) {
      throw new InvalidArgumentError(`${what} must be a dead-letter id (a string of digits from 1 to ${MAX_ID}), got ${describe(id)}`);
    }
  }
}
