// Checks once whether PostgreSQL answers, and tells the test files through the environment.
// Under CI (CI=true) or with DOCTOR_JOB_REQUIRE_POSTGRES=1 an unreachable PostgreSQL fails the
// run; elsewhere the PostgreSQL suites are skipped with a warning.
const { Client } = require('pg');

module.exports = async function globalSetup() {
  const url = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  process.env.TEST_DATABASE_URL = url;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.DOCTOR_JOB_TEST_POSTGRES = 'up';
  } catch (error) {
    const required = process.env.CI === 'true' || process.env.DOCTOR_JOB_REQUIRE_POSTGRES === '1';
    if (required) {
      throw new Error(`PostgreSQL is required for the test run (CI) but ${url} does not answer: ${error.message}`);
    }
    process.env.DOCTOR_JOB_TEST_POSTGRES = 'down';
    console.warn(`\n[doctor-job] PostgreSQL at ${url} does not answer (${error.message}): PostgreSQL suites are SKIPPED.\n`);
  } finally {
    await client.end().catch(() => undefined);
  }
  await checkMariadb();
};

async function checkMariadb() {
  const url = new URL(process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test');
  const mariadb = require('mariadb');
  try {
    const connection = await mariadb.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: url.username || 'root', password: url.password || undefined, connectTimeout: 5_000 });
    await connection.query('SELECT 1');
    await connection.end();
    process.env.DOCTOR_JOB_TEST_MARIADB = 'up';
  } catch (error) {
    const required = process.env.CI === 'true' || process.env.DOCTOR_JOB_REQUIRE_MARIADB === '1';
    if (required) throw new Error(`MariaDB is required for the test run (CI) but ${url.host} does not answer: ${error.message}`);
    process.env.DOCTOR_JOB_TEST_MARIADB = 'down';
    console.warn(`\n[doctor-job] MariaDB at ${url.host} does not answer (${error.message}): MariaDB suites are SKIPPED.\n`);
  }
}
