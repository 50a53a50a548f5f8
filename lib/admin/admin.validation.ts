/**
 * Checks of what callers of DoctorJobAdminService pass (a dashboard's query string, a CLI's
 * arguments): each bad value is an InvalidArgumentError (a 400) naming it, before any statement runs.
 */
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { DEAD_LETTER_REASONS, JOB_STATES, type DeadLetterFilter, type DeadLetterReason, type JobState } from '../store/job-store.interface';
import { codePoints, describe } from '../util/describe';
import type { DeadLetterMatch } from './admin.types';

const MAX_ID = 2n ** 63n - 1n;
/** Most ids one action takes (a bulk action by filter has no limit). */
export const MAX_IDS = 1_000;
export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

/** Ids as strings of digits in the 64-bit range, without repeats, at most MAX_IDS. */
export function checkIds(ids: unknown, what: 'job' | 'dead-letter', name = 'id'): string[] {
  const list: unknown[] = Array.isArray(ids) ? ids : [ids];
  if (list.length === 0) throw new InvalidArgumentError(`at least one ${what} id is needed`);
  if (list.length > MAX_IDS) throw new InvalidArgumentError(`at most ${MAX_IDS} ${what} ids at once, got ${list.length}: act on more by filter`);
  for (const id of list) checkId(id, what, name);
  return [...new Set(list as string[])];
}

export function checkId(id: unknown, what: 'job' | 'dead-letter', name = 'id'): string {
  if (typeof id !== 'string' || !/^[1-9]\d{0,18}$/.test(id) || BigInt(id) > MAX_ID) {
    throw new InvalidArgumentError(`${name} must be a ${what} id (a string of digits from 1 to ${MAX_ID}), got ${describe(id)}`);
  }
  return id;
}

export function checkLimit(limit: unknown): number {
  const value = limit ?? DEFAULT_PAGE;
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_PAGE)) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${describe(limit)}`);
  }
  return value;
}

/** A job type, ordering key or dedup key: a non-empty string of at most 255 characters (as the database counts them). */
export function checkName(value: unknown, name: string): string {
  if (!(typeof value === 'string' && value.length > 0 && codePoints(value) <= 255 && !value.includes('\u0000'))) {
    throw new InvalidArgumentError(`${name} must be a non-empty string of at most 255 characters, got ${describe(value)}`);
  }
  return value;
}

export function optionalName(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : checkName(value, name);
}

export function checkState(state: unknown): JobState | undefined {
  if (state === undefined) return undefined;
  if (!JOB_STATES.includes(state as JobState)) throw new InvalidArgumentError(`state must be one of ${JOB_STATES.join(', ')}, got ${describe(state)}`);
  return state as JobState;
}

export function checkReason(reason: unknown): DeadLetterReason | undefined {
  if (reason === undefined) return undefined;
  if (!DEAD_LETTER_REASONS.includes(reason as DeadLetterReason)) {
    throw new InvalidArgumentError(`reason must be one of ${DEAD_LETTER_REASONS.join(', ')}, got ${describe(reason)}`);
  }
  return reason as DeadLetterReason;
}

/** A time as a Date (a Date, or ISO-8601 text), between 1970 and 9999. */
export function checkTime(value: unknown, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' && /^\d{4}-\d\d-\d\d/.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) {
    throw new InvalidArgumentError(`${name} must be a valid time (a Date, or ISO-8601 text such as 2026-12-01T08:00:00Z), got ${describe(value instanceof Date ? 'an invalid Date' : value)}`);
  }
  return date;
}

/** A DeadLetterMatch as the store's filter. */
export function checkMatch(match: DeadLetterMatch = {}): DeadLetterFilter {
  if (typeof match !== 'object' || match === null) throw new InvalidArgumentError(`the filter must be an object, got ${describe(match)}`);
  const filter: DeadLetterFilter = {
    type: optionalName(match.type, 'type'),
    reason: checkReason(match.reason),
    failedBefore: checkTime(match.failedBefore, 'failedBefore'),
    failedAfter: checkTime(match.failedAfter, 'failedAfter'),
  };
  if (filter.failedBefore && filter.failedAfter && filter.failedAfter >= filter.failedBefore) {
    throw new InvalidArgumentError(`failedAfter (${filter.failedAfter.toISOString()}) must be earlier than failedBefore (${filter.failedBefore.toISOString()})`);
  }
  return filter;
}

/** Whether a filter selects every dead letter. */
export function matchesAll(filter: DeadLetterFilter): boolean {
  return Object.values(filter).every((value) => value === undefined);
}
