import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { createServerDatabase, mariadbServer } from '../support/servers';

export type Dialect = 'postgresql' | 'mysql' | 'sqlite';
export const DIALECTS: Dialect[] = ['postgresql', 'mysql', 'sqlite'];

const root = join(__dirname, '..', '..');

/** Set by test/support/global-setup.js; under CI=true a server that does not answer fails the run there instead. */
export const serverUp = (dialect: Dialect) =>
  dialect === 'sqlite' || process.env[dialect === 'postgresql' ? 'DOCTOR_JOB_TEST_POSTGRES' : 'DOCTOR_JOB_TEST_MARIADB'] === 'up';

/** Doctor Job's migration folders of a dialect in this repository, oldest first (read here, not through lib/cli). */
export function repoMigrations(dialect: Dialect): { name: string; file: string }[] {
  const dir = join(root, 'prisma', dialect, 'migrations');
  return readdirSync(dir)
    .filter((name) => /^\d{14}_doctor_job/.test(name))
    .sort()
    .map((name) => ({ name, file: join(dir, name, 'migration.sql') }));
}

export interface InstalledApp {
  dir: string;
  /** The installed bin, node_modules/.bin/doctor-job. */
  bin: string;
  timings: Record<string, number>;
  dispose(): void;
}

/**
 * What a user gets: the package built and packed as `npm pack` packs it, the tarball installed
 * with npm into a fresh project with pg and mariadb from the registry.
 *
 * The build goes to a staging copy (tsc into its dist/, then `npm pack --ignore-scripts` there,
 * which applies package.json "files" as a publish does) rather than through `prepack` in the
 * repository, so the test never deletes the repository's dist/ under someone else's feet.
 * better-sqlite3 is linked from this repository's node_modules: installing it fresh runs its
 * native build or binary download, which this machine does not allow.
 */
export function installPackedApp(): InstalledApp {
  const work = mkdtempSync(join(tmpdir(), 'doctor-job-cli-'));
  const timings: Record<string, number> = {};
  const time = <T>(label: string, fn: () => T): T => {
    const started = Date.now();
    try {
      return fn();
    } finally {
      timings[label] = Date.now() - started;
    }
  };
  const stage = join(work, 'package');
  mkdirSync(stage);
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'prisma']) cpSync(join(root, entry), join(stage, entry), { recursive: true });
  time('build', () => {
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], {
      cwd: root,
      encoding: 'utf8',
    });
    // tsc emits even when a file someone is editing does not type-check; `npm run typecheck` is where that fails.
    if (!existsSync(join(stage, 'dist', 'cli', 'main.js'))) throw new Error(`the build made no dist/cli/main.js:\n${tsc.stdout}${tsc.stderr}`);
  });
  const packed = time('pack', () => npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage));
  const tarball = join(work, JSON.parse(packed)[0].filename as string);
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'doctor-job-cli-test-app', private: true, version: '1.0.0' }));
  time('install', () => npm(['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, 'pg', 'mariadb'], app));
  symlinkSync(join(root, 'node_modules', 'better-sqlite3'), join(app, 'node_modules', 'better-sqlite3'), 'dir');
  return { dir: app, bin: join(app, 'node_modules', '.bin', 'doctor-job'), timings, dispose: () => rmSync(work, { recursive: true, force: true }) };
}

function npm(args: string[], cwd: string): string {
  const env = { ...process.env, npm_config_update_notifier: 'false' };
  const result = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 150_000 });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in the app's folder, with DATABASE_URL only when given. */
export function run(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false', ...env };
  if (!('DATABASE_URL' in env)) delete childEnv.DATABASE_URL;
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A fresh database of its own: PostgreSQL and MariaDB `doctor_job_cli_<random>` (dropped after), or a SQLite file. */
export interface CliDatabase {
  dialect: Dialect;
  url: string;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Runs a script of several statements (a migration file). */
  exec(script: string): Promise<void>;
  tables(): Promise<string[]>;
  columns(table: string): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function createDatabase(dialect: Dialect, dir: string): Promise<CliDatabase> {
  const name = `doctor_job_cli_${randomBytes(5).toString('hex')}`;
  if (dialect === 'postgresql') {
    const server = await createServerDatabase(dialect, name);
    const client = new Client({ connectionString: server.url });
    await client.connect();
    const query = async <T>(sql: string) => (await client.query(sql)).rows as T[];
    return {
      dialect,
      url: server.url,
      query,
      exec: async (script) => void (await client.query(script)),
      tables: async () => (await query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`))
          .map((r) => r.t)
          .sort(),
      columns: async (table) =>
        (await query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '${table}' ORDER BY ordinal_position`)).map((r) => r.c),
      dispose: async () => {
        await client.end();
        await server.drop();
      },
    };
  }
  if (dialect === 'mysql') {
    const server = await createServerDatabase(dialect, name);
    const connection = await mariadbConnect(name);
    const query = async <T>(sql: string) => (await connection.query(sql)) as T[];
    return {
      dialect,
      url: server.url,
      query,
      exec: async (script) => void (await connection.query(script)),
      tables: async () => (await query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1`))
          .map((r) => r.t)
          .sort(),
      columns: async (table) =>
        (await query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${table}' ORDER BY ordinal_position`)).map((r) => r.c),
      dispose: async () => {
        await connection.end();
        await server.drop();
      },
    };
  }
  const file = join(dir, `${name}.db`);
  let db: Database.Database | undefined;
  const open = () => (db ??= new Database(file));
  const query = async <T>(sql: string) => {
    const statement = open().prepare(sql);
    return (statement.reader ? statement.all() : (statement.run(), [])) as T[];
  };
  return {
    dialect,
    url: `file:${file}`,
    query,
    exec: async (script) => void open().exec(script),
    tables: async () => (await query<{ t: string }>(`SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1`)).map((r) => r.t),
    columns: async (table) => (await query<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)).map((r) => r.name),
    dispose: async () => {
      db?.close();
      rmSync(file, { force: true });
    },
  };
}

async function mariadbConnect(database: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mariadb = require('mariadb') as typeof import('mariadb');
  return mariadb.createConnection({
    ...mariadbServer(),
    database,
    multipleStatements: true,
    dateStrings: true,
    bigIntAsNumber: true,
  });
}

export const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
