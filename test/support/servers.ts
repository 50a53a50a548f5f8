/**
 * The PostgreSQL and MariaDB test servers (TEST_DATABASE_URL, TEST_MARIADB_URL), on which a test
 * file creates a database of its own and drops it after: the integration tests (databases.ts) and
 * the CLI's (test/cli/support.ts).
 */
import { Client } from 'pg';

const pgAdminUrl = () => process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const mariadbUrl = () => process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** The `mariadb` driver's connection options for the MariaDB test server, as its URL gives them. */
export function mariadbServer() {
  const { hostname, port, username, password } = new URL(mariadbUrl());
  return { host: hostname, port: Number(port || 3306), user: username || 'root', password: password || undefined };
}

export interface ServerDatabase {
  url: string;
  /** Drops the database (PostgreSQL: with any connection still open on it). */
  drop(): Promise<void>;
}

/** Creates the database `name` on the dialect's test server. */
export async function createServerDatabase(dialect: 'postgresql' | 'mysql', name: string): Promise<ServerDatabase> {
  const url = new URL(dialect === 'postgresql' ? pgAdminUrl() : mariadbUrl());
  url.pathname = `/${name}`;
  if (dialect === 'postgresql') {
    await pgAdmin(`CREATE DATABASE "${name}"`);
    return { url: url.toString(), drop: () => pgAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
  }
  await mariadbAdmin(`CREATE DATABASE \`${name}\``);
  return { url: url.toString(), drop: () => mariadbAdmin(`DROP DATABASE IF EXISTS \`${name}\``) };
}

async function pgAdmin(sql: string): Promise<void> {
  const client = new Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function mariadbAdmin(sql: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mariadb = require('mariadb') as typeof import('mariadb');
  const connection = await mariadb.createConnection(mariadbServer());
  try {
    await connection.query(sql);
  } finally {
    await connection.end();
  }
}
