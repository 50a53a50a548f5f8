import { isAbsolute, resolve } from 'node:path';
import type { Dialect } from '../doctor-job.options';
import { usageError } from './errors';

export type { Dialect };

export const CLI_DIALECTS: readonly Dialect[] = ['postgresql', 'mysql', 'sqlite'];

/** How each dialect is named to people. */
export const DIALECT_LABEL: Record<Dialect, string> = { postgresql: 'PostgreSQL', mysql: 'MariaDB', sqlite: 'SQLite' };

const ALIASES: Record<string, Dialect> = {
  postgresql: 'postgresql',
  postgres: 'postgresql',
  pg: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'sqlite',
};

/** `postgresql`, `mysql` or `sqlite` from a `--dialect` value (also `postgres`, `pg`, `mariadb`). */
export function parseDialect(value: string): Dialect {
  const dialect = ALIASES[value.trim().toLowerCase()];
  if (!dialect) throw usageError(`unknown dialect "${value}": use postgresql, mysql (for MariaDB) or sqlite`);
  return dialect;
}

/** The dialect a database URL's scheme names, or undefined when the scheme is not one Doctor Job knows. */
export function dialectOfUrl(url: string): Dialect | undefined {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgresql';
  if (/^(mysql|mariadb):\/\//i.test(url)) return 'mysql';
  if (/^file:/i.test(url)) return 'sqlite';
  return undefined;
}

/** A database to connect to, parsed from its URL. */
export type DatabaseTarget =
  | {
      dialect: 'postgresql';
      /** The URL as given to `pg`, without Prisma's own parameters (`schema`, `connection_limit`, …). */
      connectionString: string;
      /** The `?schema=` of a Prisma URL: where Doctor Job's tables and `_prisma_migrations` live. */
      schema?: string;
      host: string;
      port: number;
      database: string;
      user: string;
      /** The URL without its password, for messages. */
      display: string;
    }
  | {
      dialect: 'mysql';
      host: string;
      port: number;
      database: string;
      user: string;
      password?: string;
      ssl?: { rejectUnauthorized: boolean };
      display: string;
    }
  | { dialect: 'sqlite'; file: string; display: string };

/** Query parameters of Prisma's PostgreSQL URLs that the `pg` driver does not know. */
const PRISMA_ONLY_PG_PARAMS = [
  'schema',
  'connection_limit',
  'pool_timeout',
  'pgbouncer',
  'statement_cache_size',
  'socket_timeout',
  'sslaccept',
  'max_connection_lifetime',
  'max_idle_connection_lifetime',
];

const EXAMPLES: Record<Dialect, string> = {
  postgresql: 'postgresql://user:password@host:5432/database',
  mysql: 'mysql://user:password@host:3306/database',
  sqlite: 'file:./dev.db',
};

/**
 * Parses a database URL. The dialect comes from `--dialect` when given, else from the scheme
 * (`postgres(ql)://`, `mysql://` or `mariadb://`, `file:`); a scheme of another dialect than
 * `--dialect` names is refused.
 */
export function parseDatabaseUrl(url: string | undefined, dialectOption?: Dialect): DatabaseTarget {
  if (url === undefined || url.trim() === '') {
    throw usageError('no database URL: pass --url <url> or set DATABASE_URL (e.g. postgresql://user:password@host:5432/database)');
  }
  url = url.trim();
  const fromScheme = dialectOfUrl(url);
  const dialect = dialectOption ?? fromScheme;
  if (!dialect) {
    throw usageError(
      `cannot tell the dialect from the URL "${redact(url)}": it must start with postgresql://, mysql:// (or mariadb://) or file:, or pass --dialect`,
    );
  }
  if (fromScheme && fromScheme !== dialect) {
    throw usageError(`the URL "${redact(url)}" is a ${DIALECT_LABEL[fromScheme]} URL but --dialect says ${dialect}: fix one of them`);
  }
  if (dialect === 'sqlite') return { dialect, file: sqliteFile(url), display: `file:${sqliteFile(url)}` };

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`the database URL "${redact(url)}" is not a valid URL: expected ${EXAMPLES[dialect]}`);
  }
  if (!parsed.hostname) throw usageError(`the database URL "${redact(url)}" names no host: expected ${EXAMPLES[dialect]}`);
  const database = decode(parsed.pathname.replace(/^\//, ''), url);
  const user = decode(parsed.username, url);
  const password = parsed.password ? decode(parsed.password, url) : undefined;
  const display = redact(url);
  if (dialect === 'postgresql') {
    const port = Number(parsed.port || 5432);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    for (const name of PRISMA_ONLY_PG_PARAMS) parsed.searchParams.delete(name);
    return {
      dialect,
      connectionString: parsed.toString(),
      schema,
      host: parsed.hostname,
      port,
      database: database || user || 'postgres',
      user,
      display,
    };
  }
  if (!database) throw usageError(`the MariaDB URL "${display}" names no database: expected ${EXAMPLES.mysql}`);
  const sslaccept = parsed.searchParams.get('sslaccept');
  const ssl = parsed.searchParams.get('ssl');
  return {
    dialect,
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    database,
    user: user || 'root',
    password,
    ssl: sslaccept || ssl === 'true' ? { rejectUnauthorized: sslaccept !== 'accept_invalid_certs' } : undefined,
    display,
  };
}

/** The file of a `file:` URL, resolved against the current directory; `?…` parameters dropped. */
function sqliteFile(url: string): string {
  let path = url.replace(/^file:/i, '').replace(/\?.*$/, '');
  if (path.startsWith('//')) path = path.replace(/^\/\/(localhost)?/, ''); // file:///abs/path
  if (path === '') throw usageError(`the SQLite URL "${url}" names no file: expected ${EXAMPLES.sqlite}`);
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

function decode(part: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw usageError(`the database URL "${redact(url)}" has a badly escaped part: percent-encode special characters in the user and password`);
  }
}

/** The URL with its password replaced by `***`. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}
