import { BadRequestException } from '@nestjs/common';
import type { DeadLetterBulkMatch } from '../admin/admin.types';
import type { RequestLike } from './dashboard.request';
import type { QueryEcho } from './dashboard.views';

/** A parsed query string or body. */
export type Query = Record<string, unknown>;

const FILTER_FIELDS = ['type', 'reason', 'failedBefore', 'failedAfter'] as const;

/** One query parameter: absent or '' → undefined; given twice → the array (which the admin service's checks refuse with a 400 naming it). */
export function param(query: Query, name: string): any {
  const value = query?.[name];
  return value === '' ? undefined : value;
}

/*
 * Query, route parameters and body are read from the request itself, not through @Query()/@Param()/
 * @Body(): the app's global pipes (a ValidationPipe with forbidNonWhitelisted, say) then never see
 * the console's parameters, which are not theirs to check. Express and Fastify both parse them onto
 * the request (query, params, body).
 */
export function queryOf(req: RequestLike): Query {
  return typeof req.query === 'object' && req.query !== null ? (req.query as Query) : {};
}

export function idOf(req: RequestLike): string {
  return String((req.params as Record<string, unknown> | undefined)?.id ?? '');
}

export function echo(query: Query, names: string[]): QueryEcho {
  const out: QueryEcho = {};
  for (const name of names) {
    const value = query?.[name];
    out[name] = typeof value === 'string' ? value : undefined;
  }
  return out;
}

/** `limit` from the query: digits as a number, anything else passed on for the admin service to refuse with a 400 naming it. */
export function limitOf(query: Query): unknown {
  const value = param(query, 'limit');
  return typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
}

export function filterOf(source: Query) {
  const filter: Record<string, unknown> = {};
  for (const name of FILTER_FIELDS) {
    const value = param(source, name);
    if (value !== undefined) filter[name] = value;
  }
  return filter;
}

export function bulkOf(fields: Record<string, unknown>): DeadLetterBulkMatch {
  const all = fields.all === 'true' ? true : fields.all === 'false' || fields.all === '' ? undefined : fields.all;
  return { ...filterOf(fields), ...(all === undefined ? {} : { all }) } as DeadLetterBulkMatch;
}

export function optionalIds(fields: Record<string, unknown>): string | string[] | undefined {
  const ids = fields.ids;
  if (ids === undefined || ids === '') return undefined;
  const given = [...FILTER_FIELDS, 'all'].filter((name) => fields[name] !== undefined && fields[name] !== '');
  if (given.length) throw new BadRequestException(`give either ids or a filter (${given.join(', ')}), not both; nothing was changed`);
  return ids as string | string[];
}

export function requireIds(fields: Record<string, unknown>): string | string[] {
  const ids = fields.ids;
  if (ids === undefined || ids === '') throw new BadRequestException('ids is required: the id of the job (or a list of ids), e.g. {"ids": ["12"]}; nothing was changed');
  return ids as string | string[];
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

