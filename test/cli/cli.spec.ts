import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyMigrations, migrationStatus, pendingMigrations } from '../../lib/cli';
import { createDatabase, DIALECTS, installPackedApp, repoMigrations, run, serverUp, sha256, type CliDatabase, type Dialect, type InstalledApp } from './support';

// The `doctor-job` bin as users get it: packed, installed from the tarball with npm, spawned.
jest.setTimeout(60_000);

let app: InstalledApp;
const started = Date.now();

beforeAll(() => {
  app = installPackedApp();
}, 180_000);

afterAll(() => {
  app?.dispose();
  // eslint-disable-next-line no-console
  console.log(`test/cli: build ${app?.timings.build} ms, pack ${app?.timings.pack} ms, npm install ${app?.timings.install} ms, whole file ${Date.now() - started} ms`);
});

const cli = (args: string[], env: Record<string, string | undefined> = {}) => run(process.execPath, [app.bin, ...args], app.dir, env);
const npx = (args: string[], env: Record<string, string | undefined> = {}) => run('npx', ['--no-install', 'doctor-job', ...args], app.dir, env);

/** An expected error: exit code 2, one line on stderr, no stack trace. */
function expectOneLineError(result: { status: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  expect(result.status).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('the installed package', () => {
  it('ships the bin, its compiled CLI and only the Doctor Job migrations', () => {
    const installed = join(app.dir, 'node_modules', 'doctor-job');
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'doctor-job': 'dist/cli/main.js' });
    expect(readFileSync(join(installed, 'dist', 'cli', 'main.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    for (const dialect of DIALECTS) {
      for (const { name } of repoMigrations(dialect)) expect(existsSync(join(installed, 'prisma', dialect, 'migrations', name, 'migration.sql'))).toBe(true);
      expect(existsSync(join(installed, 'prisma', dialect, 'migrations', '20261128000100_sample'))).toBe(false);
    }
  });

  it('answers --help on every command (and help <command>)', async () => {
    const top = await npx(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/Usage: doctor-job \[options\] \[command\]/);
    for (const command of ['migrate', 'status', 'sql']) expect(top.stdout).toContain(`${command} [options]`);

    const expectations: Record<string, RegExp[]> = {
      migrate: [/--url <url>/, /--dialect <dialect>/, /MariaDB commits each DDL/, /already present,\s+recorded/, /Exit codes:/],
      status: [/--url <url>/, /--json/, /Reads only/],
      sql: [/--dialect <dialect>/, /--into <folder>/, /never overwritten/],
    };
    for (const [command, patterns] of Object.entries(expectations)) {
      for (const args of [[command, '--help'], ['help', command]]) {
        const result = await cli(args);
        expect(result.status).toBe(0);
        expect(result.stdout).toContain(`Usage: doctor-job ${command} [options]`);
        for (const pattern of patterns) expect(result.stdout).toMatch(pattern);
      }
    }
    const version = await cli(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(app.dir, 'node_modules', 'doctor-job', 'package.json'), 'utf8')).version);
  });
});

describe('doctor-job sql', () => {
  it.each(DIALECTS)('prints every shipped %s migration, oldest first', async (dialect) => {
    const result = await cli(['sql', '--dialect', dialect]);
    expect(result.status).toBe(0);
    let at = -1;
    for (const { name, file } of repoMigrations(dialect)) {
      const header = result.stdout.indexOf(`-- ${name}/migration.sql\n${readFileSync(file, 'utf8')}`);
      expect(header).toBeGreaterThan(at);
      at = header;
    }
    expect(result.stdout).not.toContain('_sample');
  });

  it('takes the dialect from the URL when --dialect is not given', async () => {
    const result = await cli(['sql'], { DATABASE_URL: 'mysql://root@127.0.0.1:3306/whatever' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('AUTO_INCREMENT');
  });

  it('--into copies the folders, leaves identical files alone, and never overwrites a differing one', async () => {
    const folder = join(app.dir, 'prisma', 'migrations');
    rmSync(join(app.dir, 'prisma'), { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'migration_lock.toml'), 'provider = "postgresql"\n');
    const shipped = repoMigrations('postgresql');

    const first = await cli(['sql', '--into', 'prisma/migrations']); // dialect from migration_lock.toml
    expect(first.status).toBe(0);
    for (const { name, file } of shipped) {
      expect(readFileSync(join(folder, name, 'migration.sql'))).toEqual(readFileSync(file));
      expect(first.stdout).toContain(`copied     prisma/migrations/${name}/migration.sql`);
    }

    const again = await cli(['sql', '--into', 'prisma/migrations', '--dialect', 'postgresql']);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`0 copied, ${shipped.length} already there`);

    const edited = join(folder, shipped[0].name, 'migration.sql');
    writeFileSync(edited, '-- edited by the app\n');
    rmSync(join(folder, shipped[1].name), { recursive: true });
    const refused = await cli(['sql', '--into', 'prisma/migrations']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`not copying: prisma/migrations/${shipped[0].name}/migration.sql already exists with other content`));
    expect(readFileSync(edited, 'utf8')).toBe('-- edited by the app\n');
    expect(existsSync(join(folder, shipped[1].name))).toBe(false); // nothing copied

    const wrongDialect = await cli(['sql', '--into', 'prisma/migrations', '--dialect', 'sqlite']);
    expect(wrongDialect.status).toBe(1);
    expect(wrongDialect.stderr).toContain('migration_lock.toml says provider = "postgresql"');
  });
});

describe('expected errors: one line, exit code 2', () => {
  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['no URL', ['status'], {}, /no database URL: pass --url <url> or set DATABASE_URL/],
    ['a URL that does not parse', ['migrate', '--url', 'postgresql://us%zzer@localhost/db'], {}, /badly escaped part/],
    ['a URL without a host', ['status'], { DATABASE_URL: 'postgresql:///db' }, /names no host: expected postgresql:\/\/user:password@host:5432\/database/],
    ['an unknown scheme', ['migrate', '--url', 'oracle://db.example/x'], {}, /cannot tell the dialect from the URL "oracle:\/\/db\.example\/x".*pass --dialect/],
    ['an unknown dialect', ['status', '--dialect', 'oracle', '--url', 'file:./x.db'], {}, /unknown dialect "oracle": use postgresql, mysql \(for MariaDB\) or sqlite/],
    ['a dialect the URL contradicts', ['migrate', '--dialect', 'mysql', '--url', 'file:./x.db'], {}, /is a SQLite URL but --dialect says mysql/],
    ['an unreachable PostgreSQL', ['migrate', '--url', 'postgresql://postgres:secret@127.0.0.1:1/nothing'], {}, /cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\): is the server running/],
    ['an unreachable MariaDB', ['status'], { DATABASE_URL: 'mysql://root@127.0.0.1:1/nothing' }, /cannot reach MariaDB at 127\.0\.0\.1:1 \(ECONNREFUSED\)/],
    ['an unknown option', ['migrate', '--urll', 'x'], {}, /unknown option '--urll' \(Did you mean --url\?\)/],
  ])('%s', async (_case, args, env, pattern) => {
    const result = await cli(args, env);
    expectOneLineError(result, pattern);
    expect(result.stderr).not.toContain('secret');
  });

  it('--dotenv reads DATABASE_URL from a .env file', async () => {
    writeFileSync(join(app.dir, 'cli-test.env'), 'DATABASE_URL="file:./from-dotenv.db"\n');
    const result = await cli(['status', '--dotenv', 'cli-test.env']);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`SQLite file:${join(app.dir, 'from-dotenv.db')}`);
    expectOneLineError(await cli(['status', '--dotenv', 'missing.env']), /--dotenv missing\.env: no such file/);
  });

  it('a missing driver names the package to install', async () => {
    const link = join(app.dir, 'node_modules', 'better-sqlite3');
    renameSync(link, `${link}.away`);
    try {
      const result = await cli(['migrate', '--url', 'file:./nodriver.db']);
      expectOneLineError(result, /SQLite needs the "better-sqlite3" package, which is not installed: run npm install better-sqlite3/);
    } finally {
      renameSync(`${link}.away`, link);
    }
  });

  it.each<[Dialect, string]>([
    ['postgresql', 'postgresql://postgres@127.0.0.1:5432/doctor_job_cli_does_not_exist'],
    ['mysql', 'mysql://root@127.0.0.1:3306/doctor_job_cli_does_not_exist'],
  ])('a %s database that does not exist', async (dialect, url) => {
    if (!serverUp(dialect)) return;
    expectOneLineError(await cli(['status', '--url', url]), /the database "doctor_job_cli_does_not_exist" does not exist .*create it first, or fix the URL/);
  });
});

interface HistoryRow {
  id: string;
  checksum: string;
  migration_name: string;
  logs: string | null;
  started_at: unknown;
  finished_at: unknown;
  rolled_back_at: unknown;
  applied_steps_count: number;
}

/** The tables the shipped migrations of a dialect create, sorted as db.tables() lists them. */
const doctorJobTables = (dialect: Dialect) =>
  [...new Set(repoMigrations(dialect).flatMap(({ file }) => [...readFileSync(file, 'utf8').matchAll(/^CREATE TABLE [`"](\w+)[`"]/gm)].map((m) => m[1])))].sort();
const history = (db: CliDatabase) => db.query<HistoryRow>('SELECT * FROM _prisma_migrations ORDER BY migration_name');
const time = (value: unknown) => (value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(`${String(value).replace(' ', 'T')}Z`));

for (const dialect of DIALECTS) {
  (serverUp(dialect) ? describe : describe.skip)(`doctor-job on ${dialect}`, () => {
    const shipped = repoMigrations(dialect);
    const databases: CliDatabase[] = [];
    const fresh = async () => {
      const db = await createDatabase(dialect, app.dir);
      databases.push(db);
      return db;
    };
    afterAll(async () => {
      for (const db of databases) await db.dispose();
    });

    it('status says pending (exit 1); migrate applies and records as Prisma Migrate; again changes nothing; status then exits 0', async () => {
      const db = await fresh();
      const before = await npx(['status'], { DATABASE_URL: db.url });
      expect(before.status).toBe(1);
      for (const { name } of shipped) expect(before.stdout).toMatch(new RegExp(`pending\\s+${name}`));
      expect(before.stdout).toContain('run npx doctor-job migrate');
      if (dialect === 'sqlite') expect(existsSync(db.url.slice('file:'.length))).toBe(false); // status creates nothing

      const migrated = await npx(['migrate', '--url', db.url]);
      expect(migrated.stderr).toBe('');
      expect(migrated.status).toBe(0);
      for (const { name } of shipped) expect(migrated.stdout).toMatch(new RegExp(`applied\\s+${name} \\(\\d+ ms\\)`));
      expect(await db.tables()).toEqual(['_prisma_migrations', ...doctorJobTables(dialect)]);

      const rows = await history(db);
      expect(rows.map((row) => row.migration_name)).toEqual(shipped.map((m) => m.name));
      for (const [i, row] of rows.entries()) {
        expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(row.checksum).toBe(sha256(shipped[i].file));
        expect(row.logs).toBeNull();
        expect(row.rolled_back_at).toBeNull();
        expect(Number(row.applied_steps_count)).toBe(1);
        expect(time(row.finished_at)).toBeGreaterThanOrEqual(time(row.started_at));
        expect(Math.abs(time(row.finished_at) - Date.now())).toBeLessThan(60_000);
      }
      if (dialect === 'sqlite') expect(typeof rows[0].started_at).toBe('number'); // epoch ms, as the schema engine writes them

      const again = await cli(['migrate'], { DATABASE_URL: db.url });
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('Nothing to do');
      expect(await history(db)).toEqual(rows);
      expect(await db.tables()).toEqual(['_prisma_migrations', ...doctorJobTables(dialect)]);

      const after = await cli(['status', '--url', db.url]);
      expect(after.status).toBe(0);
      for (const { name } of shipped) expect(after.stdout).toMatch(new RegExp(`applied\\s+${name}\\s+\\d{4}-\\d\\d-\\d\\dT`));
      const json = JSON.parse((await cli(['status', '--json', '--url', db.url])).stdout);
      expect(json).toMatchObject({ dialect, historyTable: true, upToDate: true, pending: [] });

      // The programmatic API agrees, from a URL and from any SQL runner (as a Prisma client's $queryRawUnsafe).
      expect(await pendingMigrations(db.url)).toEqual([]);
      expect((await migrationStatus({ dialect, query: (sql) => db.query(sql) })).upToDate).toBe(true);

      // A record whose checksum is not the shipped file's is reported, by status and migrate.
      await db.query(`UPDATE _prisma_migrations SET checksum = '${'0'.repeat(64)}' WHERE migration_name = '${shipped[0].name}'`);
      const edited = await cli(['migrate', '--url', db.url]);
      expect(edited.status).toBe(1);
      expect(edited.stderr).toContain(`${shipped[0].name} is recorded in _prisma_migrations with checksum ${'0'.repeat(64)}, but the shipped migration.sql has ${sha256(shipped[0].file)}`);
      const editedStatus = await cli(['status', '--url', db.url]);
      expect(editedStatus.status).toBe(1);
      expect(editedStatus.stdout).toMatch(new RegExp(`modified\\s+${shipped[0].name}`));
    });

    if (dialect === 'postgresql') {
      it("honours a Prisma URL's ?schema= (created when missing)", async () => {
        const db = await fresh();
        const url = `${db.url}?schema=app_jobs&connection_limit=5`;
        expect((await cli(['migrate', '--url', url])).status).toBe(0);
        const tables = await db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'app_jobs' ORDER BY 1`);
        expect(tables.map((r) => r.t)).toEqual(['_prisma_migrations', ...doctorJobTables(dialect)]);
        expect(await db.tables()).toEqual([]); // nothing in public
        expect((await cli(['status', '--url', url])).status).toBe(0);
        expect((await cli(['status', '--url', db.url])).status).toBe(1); // public has none of it
      });
    }

    it('instances migrating at once apply each migration once', async () => {
      const db = await fresh();
      if (dialect === 'sqlite') await db.exec('PRAGMA journal_mode = WAL');
      const results = await Promise.all([1, 2, 3].map(() => cli(['migrate', '--url', db.url])));
      for (const result of results) expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      expect((await history(db)).map((row) => row.migration_name)).toEqual(shipped.map((m) => m.name));
      expect(results.map((r) => r.stdout.match(/^applied /gm)?.length ?? 0).reduce((a, b) => a + b)).toBe(shipped.length);
    });

    it('tables made by hand exactly as the migration makes them are recorded ("already present, recorded"), data kept', async () => {
      const db = await fresh();
      for (const { file } of shipped) await db.exec(readFileSync(file, 'utf8'));
      await db.query(`INSERT INTO doctor_job (type, payload, max_attempts) VALUES ('kept', '{}', 3)`);
      const status = await cli(['status', '--url', db.url]);
      expect(status.status).toBe(1);
      expect(status.stdout).toContain('its tables exist (doctor_job, doctor_job_dead_letter, doctor_job_schedule) but it is not recorded');

      const result = await cli(['migrate', '--url', db.url]);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`recorded  ${shipped[0].name} (already present, recorded`);
      expect(await db.query('SELECT type FROM doctor_job')).toEqual([{ type: 'kept' }]);
      const [row] = await history(db);
      expect(row).toMatchObject({ migration_name: shipped[0].name, checksum: sha256(shipped[0].file), logs: '', rolled_back_at: null }); // as `prisma migrate resolve --applied`
      expect((await cli(['status', '--url', db.url])).status).toBe(0);
    });

    it('a drifted table is reported column by column and left alone (exit 1); partial tables too', async () => {
      const db = await fresh();
      await db.exec(readFileSync(shipped[0].file, 'utf8'));
      await db.exec(`ALTER TABLE doctor_job DROP COLUMN last_error; ALTER TABLE doctor_job ADD COLUMN surprise INTEGER`);
      const columns = await db.columns('doctor_job');

      const result = await cli(['migrate', '--url', db.url]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`doctor-job: ${shipped[0].name} is not recorded in _prisma_migrations, and the tables it creates already exist but differ from what it makes; migrate changes nothing:`);
      expect(result.stderr).toMatch(/- doctor_job\.last_error is missing \(the migration makes it text NULL\)/i);
      expect(result.stderr).toMatch(/- doctor_job\.surprise \(.+\) is not in the migration/);
      expect(result.stderr).not.toContain('doctor_job_dead_letter.');
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(await db.columns('doctor_job')).toEqual(columns);
      expect(await history(db)).toEqual([]);

      await db.exec('DROP TABLE doctor_job; DROP TABLE doctor_job_dead_letter');
      const partial = await cli(['migrate', '--url', db.url]);
      expect(partial.status).toBe(1);
      expect(partial.stderr).toContain('of the tables it creates doctor_job_schedule exist but doctor_job, doctor_job_dead_letter do not');
      expect(await db.tables()).toEqual(['_prisma_migrations', 'doctor_job_schedule']);
    });
  });
}

describe('the programmatic API (lib/cli)', () => {
  it('applyMigrations and pendingMigrations on a SQLite file', async () => {
    const url = `file:${join(app.dir, 'api.db')}`;
    const outcomes: string[] = [];
    await applyMigrations(url, { onOutcome: (o) => outcomes.push(`${o.action} ${o.name}`) });
    expect(outcomes).toEqual(repoMigrations('sqlite').map((m) => `applied ${m.name}`));
    expect(await pendingMigrations(url)).toEqual([]);
    expect((await applyMigrations(url)).map((o) => o.action)).toEqual(repoMigrations('sqlite').map(() => 'skipped'));
  });
});
